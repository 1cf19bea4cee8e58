using System;
using System.Collections.Generic;
using System.Linq;
using Kiln.Data;

namespace Kiln.Transfer;

/// <summary>Data sets for transfer experiments: some classes of a data set relabelled 0..k−1, and a few samples per class.</summary>
public static class ClassSubsets
{
    /// <summary>
    /// The samples of <paramref name="classes"/> only, with label <c>classes[i]</c> renamed to <c>i</c> and a class count of
    /// <c>classes.Length</c> (so a model with that many outputs accepts it). Sample order is kept.
    /// </summary>
    public static Dataset Select(Dataset data, IReadOnlyList<int> classes, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(classes);
        if (classes.Count == 0) throw new ArgumentException("Select at least one class.", nameof(classes));
        var newLabel = new Dictionary<int, int>();
        for (int i = 0; i < classes.Count; i++)
        {
            if (classes[i] < 0) throw new ArgumentOutOfRangeException(nameof(classes), classes[i], "Class labels are non-negative.");
            if (!newLabel.TryAdd(classes[i], i)) throw new ArgumentException($"Class {classes[i]} is listed twice.", nameof(classes));
        }
        int[] keep = Enumerable.Range(0, data.Count).Where(i => newLabel.ContainsKey(data.Labels[i])).ToArray();
        int f = data.FeatureCount;
        var features = new float[keep.Length * f];
        var labels = new int[keep.Length];
        for (int r = 0; r < keep.Length; r++)
        {
            data.Features.AsSpan(keep[r] * f, f).CopyTo(features.AsSpan(r * f, f));
            labels[r] = newLabel[data.Labels[keep[r]]];
        }
        return new Dataset(features, labels, f, classes.Count, data.Shape, name ?? $"{data.Name} classes {string.Join(",", classes)}");
    }

    /// <summary>
    /// At most <paramref name="perClass"/> samples of every class, drawn at random with <paramref name="seed"/> (without
    /// replacement), then shuffled together: the "little data" (docs/techniques.md#transfer-learning).
    /// </summary>
    public static Dataset TakePerClass(Dataset data, int perClass, ulong seed, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (perClass < 1) throw new ArgumentOutOfRangeException(nameof(perClass), perClass, "Take at least one sample per class.");
        int[] order = Shuffled(data.Count, seed);
        var taken = new Dictionary<int, int>();
        var chosen = new List<int>();
        foreach (int i in order)
        {
            int label = data.Labels[i];
            int n = taken.GetValueOrDefault(label);
            if (n >= perClass) continue;
            taken[label] = n + 1;
            chosen.Add(i);
        }
        return data.Subset(chosen.ToArray(), name ?? $"{data.Name} ({perClass} per class)");
    }

    /// <summary>0..n−1 in a Fisher–Yates order drawn from <paramref name="seed"/>.</summary>
    private static int[] Shuffled(int n, ulong seed)
    {
        var order = new int[n];
        for (int i = 0; i < n; i++) order[i] = i;
        var random = new KilnRandom(seed);
        for (int i = n - 1; i > 0; i--)
        {
            int j = random.NextInt(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
        return order;
    }
}
