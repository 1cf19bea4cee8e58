using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Xunit;

namespace Kiln.Checkpoints.Tests;

/// <summary>
/// Integrity (docs/reliability.md): damaged data bytes (a flipped bit, NaN or +Inf, a zeroed tail) are rejected with the
/// tensor's name and the model left unchanged; non-finite parameters are refused on save and load unless allowed;
/// temporary files left by a killed save are cleaned by the next save to the same path.
/// </summary>
public partial class ValidationTests
{
    /// <summary>A copy of the good file with <paramref name="edit"/> applied to the bytes of <paramref name="tensor"/>.</summary>
    private string Damaged(string name, string tensor, Action<byte[], int, int> edit)
    {
        byte[] bytes = File.ReadAllBytes(_good);
        RawSafetensors.RawTensor t = _raw.Tensors.Single(x => x.Name == tensor);
        int start = 8 + (int)_raw.HeaderLength + (int)t.Begin;
        edit(bytes, start, (int)(t.End - t.Begin));
        string path = _dir.File(name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static CheckpointException AssertDamaged(string path, string tensor, params string[] fragments)
    {
        CheckpointException e = AssertRejected(Target(), path, null, fragments);
        Assert.Equal(tensor, e.TensorName);
        return e;
    }

    [Fact]
    public void A_flipped_mantissa_bit_is_rejected_with_the_tensor_name()
    {
        string path = Damaged("flip.safetensors", "dense0.weight", (b, start, _) => b[start + 4 * 100] ^= 0x01);
        AssertDamaged(path, "dense0.weight", "checksum");
    }

    [Fact]
    public void Nan_and_infinity_bytes_are_rejected()
    {
        string nan = Damaged("nan.safetensors", "bn0.gamma", (b, start, _) => BinaryPrimitives.WriteSingleLittleEndian(b.AsSpan(start + 8), float.NaN));
        AssertDamaged(nan, "bn0.gamma");
        string inf = Damaged("inf.safetensors", "dense1.bias", (b, start, _) => BinaryPrimitives.WriteSingleLittleEndian(b.AsSpan(start), float.PositiveInfinity));
        AssertDamaged(inf, "dense1.bias");
    }

    [Fact]
    public void A_zeroed_tail_of_the_data_section_is_rejected()
    {
        byte[] bytes = File.ReadAllBytes(_good);
        RawSafetensors.RawTensor last = _raw.Tensors.OrderBy(t => t.End).Last();
        Assert.True(last.Bytes.Length >= 16 && last.Floats().Any(v => v != 0));
        Array.Clear(bytes, bytes.Length - 16, 16);   // inside the last tensor, so it is the one named
        string path = _dir.File("tail.safetensors");
        File.WriteAllBytes(path, bytes);
        AssertDamaged(path, last.Name, "checksum");
        Assert.Throws<CheckpointException>(() => Checkpoint.Read(path).VerifyChecksums());   // inspection can verify too
    }

    [Fact]
    public void Saved_files_carry_a_checksum_per_tensor_and_verify()
    {
        Assert.True(_raw.Metadata.TryGetValue("kiln_checksums", out string? json));
        foreach (RawSafetensors.RawTensor t in _raw.Tensors) Assert.Contains("\"" + t.Name + "\":\"xxh3:", json);
        var model = Target();
        Assert.True(Checkpoint.Load(model, _good).ChecksumsVerified);
        CheckpointFile read = Checkpoint.Read(_good);
        Assert.False(read.ChecksumsVerified);   // parsed only
        Assert.True(read.VerifyChecksums());
        Assert.True(read.ChecksumsVerified);
    }

    [Fact]
    public void A_file_without_checksums_still_loads_and_says_it_is_unverified()
    {
        var meta = new Dictionary<string, string>(_raw.Metadata);
        meta.Remove("kiln_checksums");
        string path = _dir.File("older.safetensors");
        RawSafetensors.Write(path, meta, _raw.Tensors, null, null);
        var model = Target();
        CheckpointFile file = Checkpoint.Load(model, path);
        Assert.False(file.ChecksumsVerified);
        var reference = new Net();
        Checkpoint.Load(reference, _good);
        Support.AssertSame(Support.Snapshot(reference), Support.Snapshot(model));
    }

    [Fact]
    public void Non_finite_values_without_a_checksum_are_still_rejected_unless_allowed()
    {
        // A file written by another tool (no checksums) that holds +Inf in a parameter.
        var meta = new Dictionary<string, string>(_raw.Metadata);
        meta.Remove("kiln_checksums");
        var tensors = _raw.Tensors.Select(t =>
        {
            if (t.Name != "dense0.bias") return t;
            byte[] b = (byte[])t.Bytes.Clone();
            BinaryPrimitives.WriteSingleLittleEndian(b.AsSpan(12), float.PositiveInfinity);
            return t with { Bytes = b };
        }).ToList();
        string path = _dir.File("inf-unverified.safetensors");
        RawSafetensors.Write(path, meta, tensors, null, null);
        CheckpointException e = AssertDamaged(path, "dense0.bias", "element 3", "AllowNonFinite");
        var model = Target();
        Checkpoint.Load(model, path, new CheckpointLoadOptions { AllowNonFinite = true });
        Assert.True(float.IsPositiveInfinity(model.TensorData(model.Tensors.Single(t => t.Name == "dense0.bias"))[3]));
        Assert.Throws<CheckpointException>(() => Checkpoint.LoadMatching(new SevenClassNet(), path));
    }

    [Fact]
    public void Save_refuses_non_finite_values_unless_allowed_and_the_allowed_file_loads_only_when_allowed()
    {
        var model = new Net();
        Support.Train(model, 0, 2);
        TensorInfo bias = model.Tensors.Single(t => t.Name == "dense1.bias");
        model.TensorState(bias, 1)[2] = float.NaN;   // optimiser state counts too
        string path = _dir.File("diverged.safetensors");
        CheckpointException e = Assert.Throws<CheckpointException>(() => Checkpoint.Save(model, path));
        Assert.Equal("dense1.bias.optimizer_state1", e.TensorName);
        Assert.False(File.Exists(path));
        Checkpoint.Save(model, path, options: new CheckpointSaveOptions { AllowNonFinite = true });
        Assert.Throws<CheckpointException>(() => Checkpoint.Load(new Net(), path));
        var loaded = new Net();
        Assert.True(Checkpoint.Load(loaded, path, new CheckpointLoadOptions { AllowNonFinite = true }).ChecksumsVerified);
        Assert.True(float.IsNaN(loaded.TensorState(loaded.Tensors.Single(t => t.Name == "dense1.bias"), 1)[2]));
    }
}
