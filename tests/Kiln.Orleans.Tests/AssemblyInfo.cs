// The tests start clusters in this process and share one storage and one stepping runner: run them one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
