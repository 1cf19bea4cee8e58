using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Text;

namespace Kiln.Analyzers.Tests.Harness;

/// <summary>
/// The code-fix verifier, after the Roslyn CodeFix.Testing packages: the markup's source goes into an
/// <see cref="AdhocWorkspace"/> project, the analyzer's diagnostics must be exactly the marked ones, then the fix
/// (the action at <c>actionIndex</c>) is applied to the first of them — or Fix All with the provider's
/// <see cref="FixAllProvider"/> in the given scope — and the resulting text must equal <c>expected</c> exactly
/// (both are prefixed with <see cref="AnalyzerHarness.Prelude"/>).
/// </summary>
public static class VerifyFix
{
    public static Task FixAsync<TAnalyzer, TFix>(string markup, string expected, int actionIndex = 0)
        where TAnalyzer : KilnAnalyzer, new() where TFix : CodeFixProvider, new() =>
        RunAsync(new TAnalyzer(), new TFix(), new[] { markup }, new[] { expected }, actionIndex, null);

    /// <summary>Fix All in <paramref name="scope"/> over several documents (markup per document).</summary>
    public static Task FixAllAsync<TAnalyzer, TFix>(string[] markups, string[] expected, FixAllScope scope)
        where TAnalyzer : KilnAnalyzer, new() where TFix : CodeFixProvider, new() =>
        RunAsync(new TAnalyzer(), new TFix(), markups, expected, 0, scope);

    /// <summary>The titles of the actions the fix offers for the first diagnostic.</summary>
    public static async Task<string[]> TitlesAsync<TAnalyzer, TFix>(string markup)
        where TAnalyzer : KilnAnalyzer, new() where TFix : CodeFixProvider, new()
    {
        (Project project, DocumentId[] ids) = CreateProject(new[] { Markup.Parse(AnalyzerHarness.Prelude + markup, new TAnalyzer().Rule.Id).Source });
        Document document = project.GetDocument(ids[0])!;
        Diagnostic diagnostic = (await DiagnosticsAsync(project, new TAnalyzer())).First();
        return (await ActionsAsync(new TFix(), document, diagnostic)).Select(a => a.Title).ToArray();
    }

    private static async Task RunAsync(KilnAnalyzer analyzer, CodeFixProvider fix, string[] markups, string[] expected, int actionIndex, FixAllScope? scope)
    {
        var parsed = markups.Select(m => Markup.Parse(AnalyzerHarness.Prelude + m, analyzer.Rule.Id)).ToArray();
        (Project project, DocumentId[] ids) = CreateProject(parsed.Select(p => p.Source).ToArray());

        ImmutableArray<Diagnostic> diagnostics = await DiagnosticsAsync(project, analyzer);
        for (int i = 0; i < ids.Length; i++)
        {
            string path = AnalyzerHarness.SourcePath(i);
            var actual = diagnostics.Where(d => d.Location.SourceTree?.FilePath == path).Select(d => new ExpectedDiagnostic(d.Id, d.Location.SourceSpan)).ToList();
            actual.Sort(Markup.Compare);
            Assert.True(parsed[i].Expected.SequenceEqual(actual),
                $"Document {i}: expected [{string.Join(", ", parsed[i].Expected)}] but the analyzer reported [{string.Join(", ", actual)}]");
        }
        Assert.NotEmpty(diagnostics);
        Assert.All(diagnostics, d => Assert.Contains(d.Id, fix.FixableDiagnosticIds));

        Diagnostic first = diagnostics.OrderBy(d => d.Location.SourceTree!.FilePath, StringComparer.Ordinal).ThenBy(d => d.Location.SourceSpan.Start).First();
        Document firstDocument = project.GetDocument(first.Location.SourceTree!)!;
        CodeAction[] actions = await ActionsAsync(fix, firstDocument, first);
        Assert.True(actions.Length > actionIndex, $"The fix offered {actions.Length} action(s) for {first}.");
        CodeAction action = actions[actionIndex];

        if (scope is { } fixAllScope)
        {
            FixAllProvider provider = fix.GetFixAllProvider() ?? throw new InvalidOperationException("No fix-all provider.");
            Assert.Contains(fixAllScope, provider.GetSupportedFixAllScopes());
            var context = new FixAllContext(firstDocument, fix, fixAllScope, action.EquivalenceKey, fix.FixableDiagnosticIds,
                new Provider(diagnostics), CancellationToken.None);
            action = await provider.GetFixAsync(context) ?? throw new InvalidOperationException("Fix All produced no action.");
        }

        Solution changed = project.Solution;
        foreach (CodeActionOperation operation in await action.GetOperationsAsync(CancellationToken.None))
            if (operation is ApplyChangesOperation apply) changed = apply.ChangedSolution;
        for (int i = 0; i < ids.Length; i++)
        {
            string text = (await changed.GetDocument(ids[i])!.GetTextAsync()).ToString();
            string want = AnalyzerHarness.Prelude + expected[i];
            Assert.True(want.Replace("\r\n", "\n") == text.Replace("\r\n", "\n"),
                $"Document {i} after '{action.Title}':\n--- expected ---\n{want}\n--- actual ---\n{text}");
        }
    }

    private static (Project, DocumentId[]) CreateProject(string[] sources)
    {
        var workspace = new AdhocWorkspace();
        ProjectId projectId = ProjectId.CreateNewId();
        Solution solution = workspace.CurrentSolution.AddProject(ProjectInfo.Create(projectId, VersionStamp.Default, "Kiln.UserCode", "Kiln.UserCode",
            LanguageNames.CSharp, compilationOptions: AnalyzerHarness.CompilationOptions, parseOptions: AnalyzerHarness.ParseOptions,
            metadataReferences: AnalyzerHarness.References));
        var ids = new DocumentId[sources.Length];
        for (int i = 0; i < sources.Length; i++)
        {
            ids[i] = DocumentId.CreateNewId(projectId);
            solution = solution.AddDocument(DocumentInfo.Create(ids[i], $"Test{i}.cs",
                loader: TextLoader.From(TextAndVersion.Create(SourceText.From(sources[i]), VersionStamp.Default)), filePath: AnalyzerHarness.SourcePath(i)));
        }
        return (solution.GetProject(projectId)!, ids);
    }

    private static async Task<ImmutableArray<Diagnostic>> DiagnosticsAsync(Project project, KilnAnalyzer analyzer)
    {
        Compilation compilation = (await project.GetCompilationAsync())!;
        AnalysisRun run = await AnalyzerHarness.AnalyzeAsync(compilation, ImmutableArray<Diagnostic>.Empty, ImmutableArray.Create<DiagnosticAnalyzer>(analyzer));
        run.AssertNoFailures();
        return run.Diagnostics.Where(d => d.Id == analyzer.Rule.Id).ToImmutableArray();
    }

    private static async Task<CodeAction[]> ActionsAsync(CodeFixProvider fix, Document document, Diagnostic diagnostic)
    {
        var actions = new List<CodeAction>();
        var context = new CodeFixContext(document, diagnostic, (action, _) => actions.Add(action), CancellationToken.None);
        await fix.RegisterCodeFixesAsync(context);
        return actions.ToArray();
    }

    /// <summary>Serves the precomputed diagnostics to Fix All.</summary>
    private sealed class Provider : FixAllContext.DiagnosticProvider
    {
        private readonly ImmutableArray<Diagnostic> _diagnostics;

        public Provider(ImmutableArray<Diagnostic> diagnostics) => _diagnostics = diagnostics;

        public override async Task<IEnumerable<Diagnostic>> GetDocumentDiagnosticsAsync(Document document, CancellationToken cancellationToken)
        {
            SyntaxTree? tree = await document.GetSyntaxTreeAsync(cancellationToken);
            return _diagnostics.Where(d => d.Location.SourceTree?.FilePath == tree?.FilePath);
        }

        public override Task<IEnumerable<Diagnostic>> GetProjectDiagnosticsAsync(Project project, CancellationToken cancellationToken) =>
            Task.FromResult<IEnumerable<Diagnostic>>(_diagnostics.Where(d => !d.Location.IsInSource));

        public override Task<IEnumerable<Diagnostic>> GetAllDiagnosticsAsync(Project project, CancellationToken cancellationToken) =>
            Task.FromResult<IEnumerable<Diagnostic>>(_diagnostics);
    }
}
