using System;
using System.Collections.Generic;

namespace Kiln.Training;

/// <summary>
/// An in-memory copy of a model's tensors: every entry of <see cref="IKilnModel.Tensors"/> (parameters and state
/// buffers such as BatchNorm running statistics) and, optionally, the optimiser state and step counter. The buffers
/// are allocated once in the constructor; <see cref="Capture"/> and <see cref="Restore"/> only copy, so a snapshot
/// can be refreshed inside the training loop without allocating. Early stopping keeps the best epoch in one; the
/// trainer keeps the last finite state in two; the doctor puts a model back exactly after a probe (with the run
/// state: learning rate and dropout stream too).
/// </summary>
public sealed class ModelSnapshot
{
    private readonly IKilnModel _model;
    private readonly TensorInfo[] _tensors;
    private readonly float[][] _data;
    private readonly float[][]? _state; // [tensor × slot] for trainable tensors, in (tensor, slot) order
    private readonly ulong[]? _noise;    // dropout stream, when the run state is included
    private float _learningRate;

    /// <param name="model">The model whose tensors are copied; the snapshot only works with this model.</param>
    /// <param name="includeOptimizerState">Also copy every optimiser state slot and the step counter.</param>
    /// <param name="includeRunState">Also copy the learning rate and the dropout stream, so a restore gives the model back bit for bit.</param>
    public ModelSnapshot(IKilnModel model, bool includeOptimizerState, bool includeRunState = false)
    {
        ArgumentNullException.ThrowIfNull(model);
        _model = model;
        var tensors = new List<TensorInfo>(model.Tensors);
        _tensors = tensors.ToArray();
        _data = new float[_tensors.Length][];
        for (int i = 0; i < _tensors.Length; i++) _data[i] = new float[model.TensorData(_tensors[i]).Length];
        if (includeOptimizerState)
        {
            var state = new List<float[]>();
            foreach (TensorInfo t in _tensors)
            {
                if (!t.Trainable) continue;
                for (int slot = 0; slot < model.OptimizerStateCount; slot++) state.Add(new float[model.TensorState(t, slot).Length]);
            }
            _state = state.ToArray();
        }
        if (includeRunState) _noise = new ulong[4];
    }

    /// <summary>True once <see cref="Capture"/> has run.</summary>
    public bool HasValue { get; private set; }

    /// <summary>The model's step counter at the capture (restored only with optimiser state).</summary>
    public long Step { get; private set; }

    /// <summary>Whether optimiser state and the step counter are part of the snapshot.</summary>
    public bool IncludesOptimizerState => _state is not null;

    /// <summary>Whether the learning rate and the dropout stream are part of the snapshot.</summary>
    public bool IncludesRunState => _noise is not null;

    /// <summary>Copies the model's tensors into the snapshot; returns true when every copied value is finite.</summary>
    public bool Capture()
    {
        bool finite = true;
        for (int i = 0; i < _tensors.Length; i++)
        {
            ReadOnlySpan<float> source = _model.TensorData(_tensors[i]);
            source.CopyTo(_data[i]);
            finite &= AllFinite(source);
        }
        if (_state is not null)
        {
            int k = 0;
            foreach (TensorInfo t in _tensors)
            {
                if (!t.Trainable) continue;
                for (int slot = 0; slot < _model.OptimizerStateCount; slot++)
                {
                    ReadOnlySpan<float> source = _model.TensorState(t, slot);
                    source.CopyTo(_state[k++]);
                    finite &= AllFinite(source);
                }
            }
        }
        Step = _model.Step;
        if (_noise is not null)
        {
            _learningRate = _model.LearningRate;
            _model.GetNoiseState(_noise);
        }
        HasValue = true;
        return finite;
    }

    /// <summary>Copies the snapshot back into the model (and the optimiser state and step when included).</summary>
    /// <exception cref="InvalidOperationException">Nothing was captured yet.</exception>
    public void Restore()
    {
        if (!HasValue) throw new InvalidOperationException($"The snapshot of {_model.ModelName} holds nothing yet: call Capture first.");
        for (int i = 0; i < _tensors.Length; i++) _data[i].CopyTo(_model.TensorData(_tensors[i]));
        if (_noise is not null)
        {
            _model.LearningRate = _learningRate;
            _model.SetNoiseState(_noise);
        }
        if (_state is null) return;
        int k = 0;
        foreach (TensorInfo t in _tensors)
        {
            if (!t.Trainable) continue;
            for (int slot = 0; slot < _model.OptimizerStateCount; slot++) _state[k++].CopyTo(_model.TensorState(t, slot));
        }
        _model.RestoreStep(Step);
    }

    /// <summary>The captured copy of <paramref name="tensor"/> (one of the model's <see cref="IKilnModel.Tensors"/>).</summary>
    public ReadOnlySpan<float> Data(TensorInfo tensor)
    {
        int i = Array.IndexOf(_tensors, tensor);
        if (i < 0) throw new ArgumentException($"'{tensor?.Name}' is not a tensor of {_model.ModelName}.", nameof(tensor));
        return _data[i];
    }

    private static bool AllFinite(ReadOnlySpan<float> values)
    {
        // Sum of x·0 is 0 for finite x and NaN for NaN or ±∞: one pass without a branch per element.
        float probe = 0;
        foreach (float v in values) probe += v * 0f;
        return probe == 0f;
    }
}
