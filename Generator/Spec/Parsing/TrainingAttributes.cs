using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;
using static Kiln.Generator.Spec.AttributeArguments;

namespace Kiln.Generator.Spec;

// The training attributes: optimisers, penalties and schedules (losses and clipping are read in ModelParse.ReadItem).
public static partial class ModelSpecParser
{
    private static OptimizerSpec ParseOptimizer(Item item, List<DiagnosticInfo> diagnostics)
    {
        AttributeData d = item.Data;
        OptimizerKind kind = (OptimizerKind)Enum.Parse(typeof(OptimizerKind), item.Name);
        double defaultLr = kind switch
        {
            OptimizerKind.Adam or OptimizerKind.AdamW or OptimizerKind.RMSProp => 1e-3,
            OptimizerKind.Lbfgs => 1.0,
            _ => 0.01,
        };
        double lr = GetDouble(d, "LearningRate", GetDouble(d, "learningRate", defaultLr));
        CheckPositive(diagnostics, item, "LearningRate", lr, "the learning rate must be positive", item.Name, positional: 0);
        string beta1Name = kind switch
        {
            OptimizerKind.Momentum or OptimizerKind.Nesterov => "Rho",
            OptimizerKind.RMSProp => "Decay",
            _ => "Beta1",
        };
        double beta1 = GetDouble(d, beta1Name, kind == OptimizerKind.RMSProp ? 0.99 : 0.9);
        double beta2 = GetDouble(d, "Beta2", 0.999);
        double eps = GetDouble(d, "Epsilon", kind is OptimizerKind.AdaGrad or OptimizerKind.RMSProp ? 1e-7 : 1e-8);
        bool usesBeta1 = kind is OptimizerKind.Momentum or OptimizerKind.Nesterov or OptimizerKind.RMSProp or OptimizerKind.Adam or OptimizerKind.AdamW;
        if (usesBeta1 && !(beta1 >= 0 && beta1 < 1))
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.HyperParameterOutOfDomain, ArgLocation(item, beta1Name) ?? item.Location,
                item.Name, beta1Name, beta1, "it must be in [0, 1)"));
        if (kind is OptimizerKind.Adam or OptimizerKind.AdamW && !(beta2 >= 0 && beta2 < 1))
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.HyperParameterOutOfDomain, ArgLocation(item, "Beta2") ?? item.Location, item.Name, "Beta2", beta2, "it must be in [0, 1)"));
        if (kind is OptimizerKind.Adam or OptimizerKind.AdamW or OptimizerKind.AdaGrad or OptimizerKind.RMSProp)
            CheckPositive(diagnostics, item, "Epsilon", eps, "ε must be positive", item.Name);
        double decay = kind == OptimizerKind.AdamW ? GetDouble(d, "WeightDecay", 0.01) : 0;
        if (!(decay >= 0) || !IsFloat(decay))
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.HyperParameterOutOfDomain, ArgLocation(item, "WeightDecay") ?? item.Location, item.Name, "WeightDecay", decay, "it must be a non-negative number"));
        int history = GetInt(d, "History", 10);
        if (kind == OptimizerKind.Lbfgs && (history < 1 || history > 1000))
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.HyperParameterOutOfDomain, ArgLocation(item, "History") ?? item.Location, item.Name, "History", history, "keep between 1 and 1000 correction pairs"));
        bool velocity = kind == OptimizerKind.Momentum && GetInt(d, "Form", 0) == 1;
        return new OptimizerSpec(kind, lr, beta1, beta2, eps, velocity, decay, history);
    }

    private static PenaltySpec? ParsePenalty(Item item, List<DiagnosticInfo> diagnostics)
    {
        AttributeData d = item.Data;
        PenaltyKind kind = (PenaltyKind)Enum.Parse(typeof(PenaltyKind), item.Name);
        double lambda = GetDouble(d, "lambda", 0);
        if (!(lambda >= 0) || !IsFloat(lambda))
        {
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.HyperParameterOutOfDomain, ArgLocation(item, "lambda", 0) ?? item.Location, item.Name, "λ", lambda, "a penalty strength must be a non-negative number"));
            return null;
        }
        double beta = GetDouble(d, "Beta", 0.5);
        if (kind == PenaltyKind.ElasticNet && (!(beta >= 0) || !IsFloat(beta)))
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.HyperParameterOutOfDomain, ArgLocation(item, "Beta") ?? item.Location, item.Name, "Beta", beta, "it must be a non-negative number"));
        int target = GetInt(d, "ApplyTo", 0);
        if (target is not (0 or 1))
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.HyperParameterOutOfDomain, ArgLocation(item, "ApplyTo") ?? item.Location, item.Name, "ApplyTo", target, "it is not a member of Kiln.PenaltyTarget"));
        return new PenaltySpec(kind, lambda, beta, target == 1);
    }

    private static ScheduleSpec ParseSchedule(Item item, List<DiagnosticInfo> diagnostics)
    {
        AttributeData d = item.Data;
        ScheduleKind kind = item.Name == "ConstantSchedule" ? ScheduleKind.Constant : (ScheduleKind)Enum.Parse(typeof(ScheduleKind), item.Name);
        void Positive(string name, double value, string rule)
        {
            if (!(value > 0) || !IsFloat(value))
                diagnostics.Add(DiagnosticInfo.Create(Descriptors.HyperParameterOutOfDomain, ArgLocation(item, name) ?? item.Location, item.Name, name, value, rule));
        }
        void Fraction(string name, double value)
        {
            if (!(value >= 0 && value <= 1))
                diagnostics.Add(DiagnosticInfo.Create(Descriptors.HyperParameterOutOfDomain, ArgLocation(item, name) ?? item.Location, item.Name, name, value, "it must be in [0, 1]"));
        }
        double factor = GetDouble(d, "Factor", 0.1);
        int every = GetInt(d, "Every", 0);
        int[] milestones = GetIntArray(d, "Milestones");
        int steps = GetInt(d, "Steps", kind == ScheduleKind.Warmup ? 500 : 0);
        int epochs = GetInt(d, "Epochs", kind == ScheduleKind.WarmRestarts ? 10 : 0);
        double minFactor = GetDouble(d, "MinFactor", 0);
        double multiplier = GetDouble(d, "Multiplier", 2);
        int patience = GetInt(d, "Patience", 10);
        double threshold = GetDouble(d, "Threshold", 1e-4);
        switch (kind)
        {
            case ScheduleKind.StepDecay:
                if (!(factor > 0 && factor < 1))
                    diagnostics.Add(DiagnosticInfo.Create(Descriptors.HyperParameterOutOfDomain, ArgLocation(item, "Factor") ?? item.Location, item.Name, "Factor", factor, "a decay factor must be in (0, 1)"));
                if ((every > 0) == (milestones.Length > 0) || every < 0)
                    diagnostics.Add(DiagnosticInfo.Create(Descriptors.HyperParameterOutOfDomain, item.Location, item.Name, "Every/Milestones", every,
                        "give either Every = N epochs (step decay) or Milestones = new[] { … } (multi-step), not both"));
                for (int m = 0; m < milestones.Length; m++)
                    if (milestones[m] <= 0 || (m > 0 && milestones[m] <= milestones[m - 1]))
                    {
                        diagnostics.Add(DiagnosticInfo.Create(Descriptors.HyperParameterOutOfDomain, ArgLocation(item, "Milestones") ?? item.Location, item.Name, "Milestones", milestones[m],
                            "milestones must be positive epochs in increasing order"));
                        break;
                    }
                break;
            case ScheduleKind.CosineDecay:
            case ScheduleKind.LinearDecay:
                if ((steps > 0) == (epochs > 0) || steps < 0 || epochs < 0)
                    diagnostics.Add(DiagnosticInfo.Create(Descriptors.HyperParameterOutOfDomain, item.Location, item.Name, "Steps/Epochs", steps,
                        "give the length T either in Steps or in Epochs (one positive value)"));
                Fraction("MinFactor", minFactor);
                break;
            case ScheduleKind.WarmRestarts:
                Positive("Epochs", epochs, "the first period must be at least one epoch");
                if (!(multiplier >= 1) || !IsFloat(multiplier))
                    diagnostics.Add(DiagnosticInfo.Create(Descriptors.HyperParameterOutOfDomain, ArgLocation(item, "Multiplier") ?? item.Location, item.Name, "Multiplier", multiplier, "periods cannot shrink: use a multiplier ≥ 1"));
                Fraction("MinFactor", minFactor);
                break;
            case ScheduleKind.Warmup:
                Positive("Steps", steps, "warm-up needs at least one step");
                break;
            case ScheduleKind.ReduceOnPlateau:
                if (!(factor > 0 && factor < 1))
                    diagnostics.Add(DiagnosticInfo.Create(Descriptors.HyperParameterOutOfDomain, ArgLocation(item, "Factor") ?? item.Location, item.Name, "Factor", factor, "a decay factor must be in (0, 1)"));
                if (patience < 0)
                    diagnostics.Add(DiagnosticInfo.Create(Descriptors.HyperParameterOutOfDomain, ArgLocation(item, "Patience") ?? item.Location, item.Name, "Patience", patience, "it must not be negative"));
                if (!(threshold >= 0) || !IsFloat(threshold))
                    diagnostics.Add(DiagnosticInfo.Create(Descriptors.HyperParameterOutOfDomain, ArgLocation(item, "Threshold") ?? item.Location, item.Name, "Threshold", threshold, "it must not be negative"));
                Fraction("MinFactor", minFactor);
                break;
        }
        return new ScheduleSpec(kind, factor, every, milestones.ToEquatableArray(), steps, epochs, minFactor, multiplier, patience, threshold);
    }

    private static void CheckPositive(List<DiagnosticInfo> diagnostics, Item item, string argument, double value, string rule, string? owner = null, int positional = -1)
    {
        // The value is emitted as a float: it must stay positive and finite after rounding.
        if (!((float)value > 0) || float.IsInfinity((float)value))
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.HyperParameterOutOfDomain, ArgLocation(item, argument, positional) ?? item.Location,
                owner ?? item.Name, argument, value, rule + (value > 0 ? " and representable as a float" : "")));
    }
}
