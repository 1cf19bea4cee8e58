using System.Linq;
using Kiln.Generator.Spec;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace Kiln.Analyzers;

/// <summary>
/// A call of <c>Trainer.Fit</c> as the code rules read it: the model (its [Model] class found by following the value, so an
/// <c>IKilnModel</c> local created with <c>new Net()</c> counts), the data, and the run's settings — the <c>(epochs,
/// batchSize)</c> overload's arguments or the <c>TrainerOptions</c> members, followed through locals, object initializers,
/// <c>with</c> expressions and helper methods that build the options.
/// </summary>
public sealed class FitCall
{
    /// <summary>TrainerOptions' defaults the rules rely on (docs/training.md).</summary>
    public const int DefaultEpochs = 10, DefaultBatchSize = 256;

    private readonly CodeContext _context;
    private readonly IArgumentOperation? _options, _epochs, _batchSize;

    private FitCall(IInvocationOperation call, CodeContext context, Compilation compilation)
    {
        Call = call;
        _context = context;
        IOperation? Argument(string name) => call.Arguments.FirstOrDefault(a => a.Parameter?.Name == name)?.Value;
        Model = Argument("model");
        Train = Argument("train");
        Validation = Argument("validation");
        _options = call.Arguments.FirstOrDefault(a => a.Parameter?.Name == "options");
        _epochs = call.Arguments.FirstOrDefault(a => a.Parameter?.Name == "epochs");
        _batchSize = call.Arguments.FirstOrDefault(a => a.Parameter?.Name == "batchSize");
        ModelType = ModelClass(Model, context);
        if (ModelType is not null) Spec = ModelCache.Get(compilation, ModelType, context.CancellationToken).Spec;
    }

    public IInvocationOperation Call { get; }
    public IOperation? Model { get; }
    public IOperation? Train { get; }
    public IOperation? Validation { get; }

    /// <summary>The [Model] class of the model argument, when the flow finds it.</summary>
    public INamedTypeSymbol? ModelType { get; }

    /// <summary>Its parsed spec.</summary>
    public ModelSpec? Spec { get; }

    /// <summary>The Fit call <paramref name="call"/> is, or null.</summary>
    public static FitCall? Read(IInvocationOperation call, CodeContext context, Compilation compilation) =>
        context.Types.IsTrainerMethod(call.TargetMethod, "Fit") ? new FitCall(call, context, compilation) : null;

    /// <summary>The [Model] class a model value is created as (following locals, fields and helpers), or null.</summary>
    public static INamedTypeSymbol? ModelClass(IOperation? model, CodeContext context) =>
        ValueFlow.CreatedType(model, context.Cache, context.CancellationToken) is INamedTypeSymbol type && context.Types.HasModelAttribute(type) ? type : null;

    /// <summary>A setting: Set with its value, Default (not set), or Unknown (the options come from where the flow cannot see).</summary>
    public (ValueFlow.MemberState State, FlowValue? Value) Setting(string name)
    {
        if (_options is null)
        {
            IArgumentOperation? argument = name switch { "Epochs" => _epochs, "BatchSize" => _batchSize, _ => null };
            return argument is null ? (ValueFlow.MemberState.Default, null) : (ValueFlow.MemberState.Set, new FlowValue(argument.Value));
        }
        if (_options.ArgumentKind == ArgumentKind.DefaultValue) return (ValueFlow.MemberState.Default, null);
        return ValueFlow.Member(_options.Value, name, _context.Cache, _context.CancellationToken);
    }

    /// <summary>A numeric setting: its constant value, <paramref name="byDefault"/> when not set, null when unknown.</summary>
    public double? Number(string name, double? byDefault)
    {
        (ValueFlow.MemberState state, FlowValue? value) = Setting(name);
        return state switch
        {
            ValueFlow.MemberState.Default => byDefault,
            ValueFlow.MemberState.Set when value is not null => ValueFlow.Number(value.Operation, _context.Cache, _context.CancellationToken, value.Bindings),
            _ => null,
        };
    }

    /// <summary>A setting's object, followed to where it is created (null when not set, unknown or null).</summary>
    public FlowValue? Object(string name)
    {
        (ValueFlow.MemberState state, FlowValue? value) = Setting(name);
        if (state != ValueFlow.MemberState.Set || value is null) return null;
        FlowValue? origin = ValueFlow.Single(value.Operation, _context.Cache, _context.CancellationToken, value.Bindings);
        return origin?.Operation is ILiteralOperation { ConstantValue: { HasValue: true, Value: null } } ? null : origin;
    }

    /// <summary>Whether an object setting is non-null: true, false (null or not set), or null (unknown).</summary>
    public bool? IsSet(string name)
    {
        (ValueFlow.MemberState state, FlowValue? value) = Setting(name);
        if (state == ValueFlow.MemberState.Default) return false;
        if (state == ValueFlow.MemberState.Unknown || value is null) return null;
        FlowValue? origin = ValueFlow.Single(value.Operation, _context.Cache, _context.CancellationToken, value.Bindings);
        if (origin is null) return null;
        return origin.Operation is not (ILiteralOperation { ConstantValue: { HasValue: true, Value: null } } or IDefaultValueOperation);
    }

    /// <summary>The effective base learning rate: the options' LearningRate, else the model's optimiser attribute's; null when unknown.</summary>
    public double? LearningRate()
    {
        (ValueFlow.MemberState state, FlowValue? value) = Setting("LearningRate");
        if (state == ValueFlow.MemberState.Set && value is not null)
        {
            FlowValue? origin = ValueFlow.Single(value.Operation, _context.Cache, _context.CancellationToken, value.Bindings);
            if (origin?.Operation is ILiteralOperation { ConstantValue: { HasValue: true, Value: null } }) return Spec?.Optimizer?.LearningRate;
            return ValueFlow.Number(value.Operation, _context.Cache, _context.CancellationToken, value.Bindings);
        }
        return state == ValueFlow.MemberState.Default ? Spec?.Optimizer?.LearningRate : null;
    }

    /// <summary>Where a report about a setting goes: the value written in the options (when in this file), else the call.</summary>
    public Location Where(string setting)
    {
        (ValueFlow.MemberState state, FlowValue? value) = Setting(setting);
        SyntaxNode? node = state == ValueFlow.MemberState.Set ? value?.Operation.Syntax : null;
        if (node?.Parent is Microsoft.CodeAnalysis.CSharp.Syntax.AssignmentExpressionSyntax assignment) node = assignment;
        return node is not null && node.SyntaxTree == Call.Syntax.SyntaxTree ? node.GetLocation() : Call.Syntax.GetLocation();
    }
}
