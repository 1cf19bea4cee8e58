using System;
using System.Collections.Generic;

namespace Kiln.Doctor;

/// <summary>
/// An in-memory copy of everything a training step changes: every tensor (parameters and running statistics),
/// the optimiser state, the step counter, the learning rate and the dropout stream. The buffers are allocated
/// once in the constructor; <see cref="Capture"/> and <see cref="Restore"/> only copy, so a monitor may take a
/// snapshot every epoch without allocating. Restoring gives the model back bit for bit.
/// </summary>
public sealed class ModelSnapshot
{
    private readonly IKilnModel _model;
    private readonly TensorInfo[] _tensors;
    private readonly float[][] _data;
    private readonly TensorInfo[] _trainable;
    private readonly float[][] _state; // [trainable index * slots + slot]
    private readonly int _slots;
    private readonly ulong[] _noise = new ulong[4];
    private long _step;
    private float _learningRate;

    /// <summary>Allocates room for a copy of <paramref name="model"/>; call <see cref="Capture"/> to take it.</summary>
    public ModelSnapshot(IKilnModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        _model = model;
        _tensors = [.. model.Tensors];
        _data = new float[_tensors.Length][];
        var trainable = new List<TensorInfo>();
        for (int i = 0; i < _tensors.Length; i++)
        {
            _data[i] = new float[_tensors[i].Length];
            if (_tensors[i].Trainable) trainable.Add(_tensors[i]);
        }
        _trainable = [.. trainable];
        _slots = model.OptimizerStateCount;
        _state = new float[_trainable.Length * _slots][];
        for (int t = 0; t < _trainable.Length; t++)
            for (int s = 0; s < _slots; s++) _state[t * _slots + s] = new float[_trainable[t].Length];
    }

    /// <summary>True once <see cref="Capture"/> ran.</summary>
    public bool IsCaptured { get; private set; }

    /// <summary>The step counter at the last capture.</summary>
    public long CapturedStep => _step;

    /// <summary>Copies the model's current state into the snapshot.</summary>
    public void Capture()
    {
        for (int i = 0; i < _tensors.Length; i++) _model.TensorData(_tensors[i]).CopyTo(_data[i]);
        for (int t = 0; t < _trainable.Length; t++)
            for (int s = 0; s < _slots; s++) _model.TensorState(_trainable[t], s).CopyTo(_state[t * _slots + s]);
        _step = _model.Step;
        _learningRate = _model.LearningRate;
        _model.GetNoiseState(_noise);
        IsCaptured = true;
    }

    /// <summary>Puts the captured state back into the model.</summary>
    /// <exception cref="InvalidOperationException">Nothing was captured yet.</exception>
    public void Restore()
    {
        if (!IsCaptured) throw new InvalidOperationException($"The snapshot of {_model.ModelName} was never captured: call Capture() before Restore().");
        for (int i = 0; i < _tensors.Length; i++) _data[i].CopyTo(_model.TensorData(_tensors[i]));
        for (int t = 0; t < _trainable.Length; t++)
            for (int s = 0; s < _slots; s++) _state[t * _slots + s].CopyTo(_model.TensorState(_trainable[t], s));
        _model.RestoreStep(_step);
        _model.LearningRate = _learningRate;
        _model.SetNoiseState(_noise);
    }
}
