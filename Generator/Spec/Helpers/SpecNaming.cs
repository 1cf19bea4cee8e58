using System.Linq;
using Microsoft.CodeAnalysis.CSharp;

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

    /// <summary>
    /// A name as a C# identifier: keywords (contextual ones too) get '@' (<c>class</c> → <c>@class</c>),
    /// so generated declarations of verbatim user names compile.
    /// </summary>
    public static string Identifier(string name) =>
        SyntaxFacts.GetKeywordKind(name) != SyntaxKind.None || SyntaxFacts.GetContextualKeywordKind(name) != SyntaxKind.None ? "@" + name : name;

    /// <summary>A dotted namespace name with each part made an identifier (<c>if.Models</c> → <c>@if.Models</c>).</summary>
    public static string QualifiedIdentifier(string dotted) =>
        string.Join(".", dotted.Split('.').Select(Identifier));
}
