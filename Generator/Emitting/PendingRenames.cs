// The plan's GEMM step serves Dense and Conv2D, so it is named LinearStep (issue 15 item 6). ModelEmitter.Plumbing.cs and
// the public-API part of ModelEmitter.cs still say DenseStep / DenseSteps; they are being moved into the runtime on
// another branch, so this alias keeps them compiling until that merge renames their last uses. Delete it then.
global using DenseStep = Kiln.Generator.Planning.LinearStep;
