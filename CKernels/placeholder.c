// Placeholder so the C target builds before its kernels land; replaced by the kernels.
