using System;
using Kiln.Data;

namespace Kiln.Augmentation;

/// <summary>
/// Deterministic operations on one C×H×W sample (channels first, rows top to bottom), shared by the augmentations
/// and test-time augmentation. Pixel (y, x) of channel c is at c·H·W + y·W + x; pixel centres sit at integer coordinates.
/// </summary>
internal static class ImageOps
{
    /// <summary>Mirrors every row (x ↦ W − 1 − x) in place.</summary>
    public static void FlipHorizontal(Span<float> sample, ImageShape shape)
    {
        int w = shape.Width;
        for (int o = 0; o < shape.Size; o += w) sample.Slice(o, w).Reverse();
    }

    /// <summary>
    /// dst(y, x) = src(y + dy, x + dx), or <paramref name="fill"/> outside the source: the crop at offset (dy, dx) of the
    /// image padded by enough <paramref name="fill"/> on every side. dy = dx = 0 copies.
    /// </summary>
    public static void Translate(ReadOnlySpan<float> src, Span<float> dst, ImageShape shape, int dy, int dx, float fill)
    {
        int h = shape.Height, w = shape.Width, plane = h * w;
        // Columns [x0, x1) of the destination read inside the source.
        int x0 = Math.Clamp(-dx, 0, w), x1 = Math.Clamp(w - dx, 0, w);
        for (int c = 0; c < shape.Channels; c++)
            for (int y = 0; y < h; y++)
            {
                Span<float> row = dst.Slice(c * plane + y * w, w);
                int sy = y + dy;
                if (sy < 0 || sy >= h || x0 >= x1)
                {
                    row.Fill(fill);
                    continue;
                }
                row.Slice(0, x0).Fill(fill);
                src.Slice(c * plane + sy * w + x0 + dx, x1 - x0).CopyTo(row.Slice(x0));
                row.Slice(x1).Fill(fill);
            }
    }

    /// <summary>
    /// Resizes the source window of <paramref name="cropHeight"/> × <paramref name="cropWidth"/> pixels whose top-left pixel
    /// is (top, left) to the full H × W with bilinear interpolation (half-pixel centres, edges clamped): destination pixel
    /// (y, x) samples the window at ((y + ½)·cropHeight/H − ½, (x + ½)·cropWidth/W − ½). A full-size window copies exactly.
    /// </summary>
    public static void ResizeCrop(ReadOnlySpan<float> src, Span<float> dst, ImageShape shape, float top, float left, float cropHeight, float cropWidth)
    {
        int h = shape.Height, w = shape.Width, plane = h * w;
        float sy = cropHeight / h, sx = cropWidth / w;
        for (int y = 0; y < h; y++)
        {
            float fy = top + (y + 0.5f) * sy - 0.5f;
            for (int x = 0; x < w; x++)
            {
                float fx = left + (x + 0.5f) * sx - 0.5f;
                for (int c = 0; c < shape.Channels; c++)
                    dst[c * plane + y * w + x] = Bilinear(src.Slice(c * plane, plane), h, w, fy, fx, float.NaN);
            }
        }
    }

    /// <summary>
    /// Rotates counter-clockwise (as seen with row 0 at the top) by <paramref name="radians"/> about the image centre
    /// ((H − 1)/2, (W − 1)/2) with bilinear sampling; destinations that map outside the source get <paramref name="fill"/>.
    /// </summary>
    public static void Rotate(ReadOnlySpan<float> src, Span<float> dst, ImageShape shape, double radians, float fill)
    {
        int h = shape.Height, w = shape.Width, plane = h * w;
        double cy = (h - 1) / 2.0, cx = (w - 1) / 2.0;
        double cos = Math.Cos(radians), sin = Math.Sin(radians);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                // Inverse map: the source point that lands on (y, x). With y pointing down, a counter-clockwise turn by θ
                // sends (u, v) = (x − cx, cy − y) to (u cos θ − v sin θ, u sin θ + v cos θ); invert with −θ.
                double u = x - cx, v = cy - y;
                double su = u * cos + v * sin, sv = -u * sin + v * cos;
                float fx = (float)(su + cx), fy = (float)(cy - sv);
                for (int c = 0; c < shape.Channels; c++)
                    dst[c * plane + y * w + x] = Bilinear(src.Slice(c * plane, plane), h, w, fy, fx, fill);
            }
    }

    /// <summary>
    /// Bilinear sample of one plane at (fy, fx). Points more than half a pixel outside the image give <paramref name="outside"/>;
    /// NaN as <paramref name="outside"/> clamps to the edge instead. Coordinates within 1e-4 of a pixel centre snap to it, so
    /// exact shifts and quarter turns reproduce pixels exactly despite sin/cos round-off.
    /// </summary>
    private static float Bilinear(ReadOnlySpan<float> plane, int h, int w, float fy, float fx, float outside)
    {
        if (!float.IsNaN(outside) && (fy < -0.5f || fy > h - 0.5f || fx < -0.5f || fx > w - 0.5f)) return outside;
        fy = Snap(Math.Clamp(fy, 0, h - 1));
        fx = Snap(Math.Clamp(fx, 0, w - 1));
        int y0 = (int)fy, x0 = (int)fx;
        int y1 = Math.Min(y0 + 1, h - 1), x1 = Math.Min(x0 + 1, w - 1);
        float ty = fy - y0, tx = fx - x0;
        float top = plane[y0 * w + x0] + (plane[y0 * w + x1] - plane[y0 * w + x0]) * tx;
        if (ty == 0) return top;
        float bottom = plane[y1 * w + x0] + (plane[y1 * w + x1] - plane[y1 * w + x0]) * tx;
        return top + (bottom - top) * ty;
    }

    private static float Snap(float v)
    {
        float r = MathF.Round(v);
        return MathF.Abs(v - r) < 1e-4f ? r : v;
    }

    /// <summary>Sets the square of side <paramref name="size"/> centred on (cy, cx) (clipped to the image) to the channel's fill value.</summary>
    /// <returns>Pixels per channel that were set.</returns>
    public static int FillSquare(Span<float> sample, ImageShape shape, int cy, int cx, int size, ReadOnlySpan<float> fillPerChannel)
    {
        int h = shape.Height, w = shape.Width, plane = h * w;
        int y0 = Math.Max(cy - size / 2, 0), y1 = Math.Min(cy - size / 2 + size, h);
        int x0 = Math.Max(cx - size / 2, 0), x1 = Math.Min(cx - size / 2 + size, w);
        if (y0 >= y1 || x0 >= x1) return 0;
        for (int c = 0; c < shape.Channels; c++)
            for (int y = y0; y < y1; y++) sample.Slice(c * plane + y * w + x0, x1 - x0).Fill(fillPerChannel[c]);
        return (y1 - y0) * (x1 - x0);
    }
}
