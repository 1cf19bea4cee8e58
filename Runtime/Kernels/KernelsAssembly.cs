using System.Runtime.CompilerServices;

// The kernel tests check internals (vector math helpers, thread-count parsing) directly.
[assembly: InternalsVisibleTo("Kiln.Kernels.Tests")]
