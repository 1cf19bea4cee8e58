using System;

namespace Kiln;

/// <summary>Flattens a spatial input (C, H, W) into a vector; required before a Dense on a spatial input.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class FlattenAttribute : Attribute
{
    /// <summary>Layer name used in diagnostics; default <c>flatten0</c>, ...</summary>
    public string? Name { get; set; }
}
