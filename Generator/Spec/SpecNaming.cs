namespace Kiln.Generator.Spec;

/// <summary>How layer names become C# identifiers in generated code (shared so the parser can check for clashes).</summary>
public static class SpecNaming
{
    /// <summary>dense0 → Dense0; my_layer → MyLayer.</summary>
    public static string Pascal(string name)
    {
        var sb = new System.Text.StringBuilder(name.Length);
        bool upper = true;
        foreach (char c in name)
        {
            if (!char.IsLetterOrDigit(c)) { upper = true; continue; }
            sb.Append(upper ? char.ToUpperInvariant(c) : c);
            upper = false;
        }
        if (sb.Length == 0 || char.IsDigit(sb[0])) sb.Insert(0, 'L');
        return sb.ToString();
    }
}
