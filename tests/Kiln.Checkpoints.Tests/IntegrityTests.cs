using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Xunit;

namespace Kiln.Checkpoints.Tests;

/// <summary>
/// Item 6 of docs/reliability.md: damaged data bytes (a flipped bit, NaN or +Inf, a zeroed tail) are rejected with the
/// tensor's name and the model left unchanged; non-finite parameters are refused on save and load unless allowed;
/// temporary files left by a killed save are cleaned by the next save to the same path.
/// </summary>
public class IntegrityTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly string _good;
    private readonly RawSafetensors.RawFile _raw;

    public IntegrityTests()
    {
        var source = new Net();
        Support.Train(source, 0, 5);
        _good = _dir.File("good.safetensors");
        Checkpoint.Save(source, _good);
        _raw = RawSafetensors.Read(_good);
    }

    public void Dispose() => _dir.Dispose();

    private static Net Target()
    {
        var net = new Net();
        Support.Train(net, 100, 102);
        return net;
    }

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

    private static CheckpointException AssertRejected(string path, string tensor, params string[] fragments)
    {
        Net model = Target();
        Dictionary<string, int[]> before = Support.Snapshot(model);
        CheckpointException e = Assert.Throws<CheckpointException>(() => Checkpoint.Load(model, path));
        Assert.Equal(tensor, e.TensorName);
        foreach (string f in fragments) Assert.Contains(f, e.Message, StringComparison.Ordinal);
        Support.AssertSame(before, Support.Snapshot(model));
        return e;
    }

    [Fact]
    public void A_flipped_mantissa_bit_is_rejected_with_the_tensor_name()
    {
        string path = Damaged("flip.safetensors", "dense0.weight", (b, start, _) => b[start + 4 * 100] ^= 0x01);
        AssertRejected(path, "dense0.weight", "checksum");
    }

    [Fact]
    public void Nan_and_infinity_bytes_are_rejected()
    {
        string nan = Damaged("nan.safetensors", "bn0.gamma", (b, start, _) => BinaryPrimitives.WriteSingleLittleEndian(b.AsSpan(start + 8), float.NaN));
        AssertRejected(nan, "bn0.gamma");
        string inf = Damaged("inf.safetensors", "dense1.bias", (b, start, _) => BinaryPrimitives.WriteSingleLittleEndian(b.AsSpan(start), float.PositiveInfinity));
        AssertRejected(inf, "dense1.bias");
    }

    [Fact]
    public void A_zeroed_tail_of_the_data_section_is_rejected()
    {
        byte[] bytes = File.ReadAllBytes(_good);
        Array.Clear(bytes, bytes.Length - 256, 256);
        string path = _dir.File("tail.safetensors");
        File.WriteAllBytes(path, bytes);
        RawSafetensors.RawTensor last = _raw.Tensors.OrderBy(t => t.End).Last();
        AssertRejected(path, last.Name, "checksum");
    }
}
