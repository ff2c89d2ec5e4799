// The `backprop` executable. Every command lives in the BackpropCLI library, so another
// package can run the same command line after registering its own backend.
import BackpropCLI

BackpropCommand.main()
