// Several tests check who runs the stages of the process-wide worker pool (WorkerPool.Shared); test classes running
// side by side would share that pool, so this assembly's tests run one at a time.
[assembly: Xunit.CollectionBehavior(DisableTestParallelization = true)]
