using System.Runtime.CompilerServices;

// The kernel tests check internals (vector math helpers, thread-count parsing) directly.
[assembly: InternalsVisibleTo("Kiln.Kernels.Tests")]
// The model tests check that a thread-count comparison really ran stages on the pool (WorkerPool.ParallelStages).
[assembly: InternalsVisibleTo("Kiln.Models.Tests")]
