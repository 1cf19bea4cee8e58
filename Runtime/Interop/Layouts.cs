namespace Kiln.Interop;

/// <summary>Index permutations between Kiln's tensor layouts and the NCHW frameworks' (ONNX, PyTorch); see docs/interop.md.</summary>
internal static class Layouts
{
    /// <summary>Kiln's conv weight [kh, kw, c, o] (the GEMM's [patch, filters]) to [o, c, kh, kw].</summary>
    public static float[] KilnConvToOihw(float[] w, int kh, int kw, int c, int o)
    {
        var result = new float[w.Length];
        for (int y = 0; y < kh; y++)
            for (int x = 0; x < kw; x++)
                for (int i = 0; i < c; i++)
                    for (int j = 0; j < o; j++)
                        result[((j * c + i) * kh + y) * kw + x] = w[((y * kw + x) * c + i) * o + j];
        return result;
    }

    /// <summary>[o, c, kh, kw] to Kiln's [kh, kw, c, o].</summary>
    public static float[] OihwToKilnConv(float[] w, int kh, int kw, int c, int o)
    {
        var result = new float[w.Length];
        for (int y = 0; y < kh; y++)
            for (int x = 0; x < kw; x++)
                for (int i = 0; i < c; i++)
                    for (int j = 0; j < o; j++)
                        result[((y * kw + x) * c + i) * o + j] = w[((j * c + i) * kh + y) * kw + x];
        return result;
    }

    /// <summary>Transposes a row-major [rows, cols] matrix.</summary>
    public static float[] Transpose(float[] w, int rows, int cols)
    {
        var result = new float[w.Length];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++)
                result[c * rows + r] = w[r * cols + c];
        return result;
    }

    /// <summary>
    /// For a Flatten of a (C, H, W) activation: the NCHW (C, H, W) index of each of Kiln's flattened features, which are
    /// in (H, W, C) order because Kiln's spatial activations are channels-last inside.
    /// </summary>
    public static int[] HwcToChw(int c, int h, int w)
    {
        var map = new int[c * h * w];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                for (int k = 0; k < c; k++)
                    map[(y * w + x) * c + k] = (k * h + y) * w + x;
        return map;
    }
}
