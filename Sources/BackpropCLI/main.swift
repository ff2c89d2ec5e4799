// Temporary entry point; the CLI lands with its own issue.
print("backprop")
