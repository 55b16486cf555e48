/* Compiled inner loops of the analysis engine (module rig.engine._kernels).
 *
 * Six computations that numpy can only run at a cost (many short vectorised steps, a pass
 * over the data per box size, or a Python loop): the sample-entropy pair count, the DFA
 * residuals, a second-order IIR section, the convex hull, the least-squares line fits of
 * the stabilogram-diffusion breakpoint search and the window average onto a uniform grid. Each one computes exactly what the numpy code beside it computes (the pure
 * numpy orders stay, for installs without a C compiler, and the tests hold the two equal):
 * see rig/engine/native.py for which functions use them.
 *
 * Plain C99 and the CPython buffer protocol only (no numpy headers), so it builds with any C
 * compiler and Python's headers. Arguments are checked in Python (rig/engine/native.py);
 * here only the buffers' sizes are checked, so that a wrong call raises instead of reading
 * out of bounds.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static int get_buffer(PyObject *obj, Py_buffer *view, int writable, Py_ssize_t itemsize,
                      Py_ssize_t min_items, const char *what)
{
    int flags = PyBUF_C_CONTIGUOUS | (writable ? PyBUF_WRITABLE : 0);
    if (PyObject_GetBuffer(obj, view, flags) < 0)
        return -1;
    if (view->itemsize != itemsize || view->len < min_items * itemsize) {
        PyErr_Format(PyExc_ValueError, "%s: need %zd items of %zd bytes, got %zd bytes",
                     what, min_items, itemsize, view->len);
        PyBuffer_Release(view);
        return -1;
    }
    return 0;
}

/* sampen_counts(s, order, m, r) -> (A, B)
 *
 * s: float64[n + m] series; order: int64[n], the templates 0..n-1 sorted by their first
 * value (s[order] ascending). B counts the pairs of templates within Chebyshev distance r at
 * length m, A those still within r at length m + 1; self-matches excluded. A template is
 * compared only with the ones after it in sorted order while the first value difference is
 * <= r (sorted, so no later one can match): the same candidates and the same comparisons
 * (|a - b| <= r per coordinate, a - b for the sorted first value) as the numpy orders.
 */
static PyObject *sampen_counts(PyObject *self, PyObject *args)
{
    PyObject *s_obj, *o_obj;
    int m;
    double r;
    if (!PyArg_ParseTuple(args, "OOid", &s_obj, &o_obj, &m, &r))
        return NULL;
    if (m < 1 || m > 16) {
        PyErr_SetString(PyExc_ValueError, "sampen_counts: m must be 1 .. 16");
        return NULL;
    }
    Py_buffer sb, ob;
    if (get_buffer(o_obj, &ob, 0, sizeof(int64_t), 0, "sampen_counts order") < 0)
        return NULL;
    Py_ssize_t n = ob.len / (Py_ssize_t)sizeof(int64_t);
    if (get_buffer(s_obj, &sb, 0, sizeof(double), n + m, "sampen_counts series") < 0) {
        PyBuffer_Release(&ob);
        return NULL;
    }
    const double *s = (const double *)sb.buf;
    const int64_t *order = (const int64_t *)ob.buf;
    const int w = m + 1;
    long long a_count = 0, b_count = 0;
    int bad = 0;
    /* the template columns in sorted order (cols[d][j] = s[order[j] + d]): the inner loop
     * then reads consecutive memory, and has no data-dependent branch (a comparison that
     * passes half the time costs a mispredicted branch each: branch-free it is 4x faster) */
    double *tpl = (double *)malloc((size_t)(n > 0 ? n : 1) * (size_t)w * sizeof(double));
    if (tpl == NULL) {
        bad = 2;
        goto done;
    }
    for (Py_ssize_t j = 0; j < n; j++) {
        int64_t k = order[j];
        if (k < 0 || k >= n) {
            bad = 1;
            goto done;
        }
        for (int d = 0; d < w; d++)
            tpl[d * n + j] = s[k + d];
    }
    Py_BEGIN_ALLOW_THREADS
    const double *first = tpl, *last = tpl + (Py_ssize_t)m * n;
    Py_ssize_t end = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        /* candidates: j = i + 1 .. end - 1, where first[j] - first[i] <= r; the rounded
         * difference grows with j and shrinks with i (sorted), so end only moves forward */
        if (end < i + 1)
            end = i + 1;
        while (end < n && first[end] - first[i] <= r)
            end++;
        long long b_i = 0, a_i = 0;
        if (m == 2) {                               /* the default: one middle column */
            const double *c1 = tpl + n, c1i = c1[i], ci = last[i];
            for (Py_ssize_t j = i + 1; j < end; j++) {
                const int ok = fabs(c1[j] - c1i) <= r;
                b_i += ok;
                a_i += ok & (fabs(last[j] - ci) <= r);
            }
        } else {
            for (Py_ssize_t j = i + 1; j < end; j++) {
                int ok = 1;
                for (int d = 1; d < m; d++)
                    ok &= fabs(tpl[d * n + j] - tpl[d * n + i]) <= r;
                b_i += ok;
                a_i += ok & (fabs(last[j] - last[i]) <= r);
            }
        }
        b_count += b_i;
        a_count += a_i;
    }
    Py_END_ALLOW_THREADS
done:
    free(tpl);
    PyBuffer_Release(&sb);
    PyBuffer_Release(&ob);
    if (bad == 1) {
        PyErr_SetString(PyExc_ValueError, "sampen_counts: order holds an index out of range");
        return NULL;
    }
    if (bad == 2)
        return PyErr_NoMemory();
    return Py_BuildValue("LL", a_count, b_count);
}

/* dfa_rss(profile, rows, n, sizes, out)
 *
 * profile: float64[rows * n] (row-major); sizes: int64[ns]; out: float64[rows * ns] (written).
 * For each row and box size, the residual sum of squares after removing each box's
 * least-squares line, summed over the n // size non-overlapping boxes from the start: per
 * box sum(dev^2) - (sum(dev * tc))^2 / sum(tc^2), dev the box minus its mean, tc the centred
 * sample times; the formula of rig.engine.sway.nonlinear.dfa_alphas.
 */
static PyObject *dfa_rss(PyObject *self, PyObject *args)
{
    PyObject *p_obj, *z_obj, *out_obj;
    Py_ssize_t rows, n;
    if (!PyArg_ParseTuple(args, "OnnOO", &p_obj, &rows, &n, &z_obj, &out_obj))
        return NULL;
    if (rows < 0 || n < 0) {
        PyErr_SetString(PyExc_ValueError, "dfa_rss: negative shape");
        return NULL;
    }
    Py_buffer pb, zb, outb;
    if (get_buffer(z_obj, &zb, 0, sizeof(int64_t), 0, "dfa_rss sizes") < 0)
        return NULL;
    Py_ssize_t ns = zb.len / (Py_ssize_t)sizeof(int64_t);
    if (get_buffer(p_obj, &pb, 0, sizeof(double), rows * n, "dfa_rss profile") < 0) {
        PyBuffer_Release(&zb);
        return NULL;
    }
    if (get_buffer(out_obj, &outb, 1, sizeof(double), rows * ns, "dfa_rss out") < 0) {
        PyBuffer_Release(&zb);
        PyBuffer_Release(&pb);
        return NULL;
    }
    const double *prof = (const double *)pb.buf;
    const int64_t *sizes = (const int64_t *)zb.buf;
    double *out = (double *)outb.buf;
    int bad = 0;
    for (Py_ssize_t i = 0; i < ns; i++)
        if (sizes[i] < 2 || sizes[i] > n)
            bad = 1;
    double *tc = bad ? NULL : (double *)malloc((size_t)(n > 0 ? n : 1) * sizeof(double));
    if (!bad && tc == NULL)
        bad = 2;
    if (!bad) {
        Py_BEGIN_ALLOW_THREADS
        for (Py_ssize_t row = 0; row < rows; row++) {
            const double *y = prof + row * n;
            for (Py_ssize_t i = 0; i < ns; i++) {
                const Py_ssize_t size = (Py_ssize_t)sizes[i];
                const double centre = (size - 1) / 2.0;
                double tctc = 0.0;
                for (Py_ssize_t j = 0; j < size; j++) {
                    tc[j] = j - centre;
                    tctc += tc[j] * tc[j];
                }
                double rss = 0.0;
                for (Py_ssize_t b = 0; b + size <= n; b += size) {
                    const double *box = y + b;
                    /* four running sums each: one sum is bound by the latency of its adds */
                    double s4[4] = {0.0, 0.0, 0.0, 0.0};
                    Py_ssize_t j = 0;
                    for (; j + 4 <= size; j += 4)
                        for (int u = 0; u < 4; u++)
                            s4[u] += box[j + u];
                    for (; j < size; j++)
                        s4[0] += box[j];
                    const double mean = ((s4[0] + s4[1]) + (s4[2] + s4[3])) / size;
                    double dd4[4] = {0.0, 0.0, 0.0, 0.0}, dt4[4] = {0.0, 0.0, 0.0, 0.0};
                    for (j = 0; j + 4 <= size; j += 4)
                        for (int u = 0; u < 4; u++) {
                            const double dev = box[j + u] - mean;
                            dd4[u] += dev * dev;
                            dt4[u] += dev * tc[j + u];
                        }
                    for (; j < size; j++) {
                        const double dev = box[j] - mean;
                        dd4[0] += dev * dev;
                        dt4[0] += dev * tc[j];
                    }
                    const double dd = (dd4[0] + dd4[1]) + (dd4[2] + dd4[3]);
                    const double dt = (dt4[0] + dt4[1]) + (dt4[2] + dt4[3]);
                    rss += dd - dt * dt / tctc;
                }
                out[row * ns + i] = rss;
            }
        }
        Py_END_ALLOW_THREADS
    }
    PyBuffer_Release(&pb);
    PyBuffer_Release(&zb);
    PyBuffer_Release(&outb);
    free(tc);
    if (bad == 2)
        return PyErr_NoMemory();
    if (bad) {
        PyErr_SetString(PyExc_ValueError, "dfa_rss: a box size is below 2 or above n");
        return NULL;
    }
    Py_RETURN_NONE;
}

/* iir_section(x, n, k, b0, b1, b2, a1, a2)
 *
 * x: float64[n * k] (n samples of k channels, row-major), filtered in place by
 * y[i] = b0 x[i] + b1 x[i-1] + b2 x[i-2] - a1 y[i-1] - a2 y[i-2], starting in the steady
 * state of the first sample (x[-1] = x[-2] = y[-1] = y[-2] = x[0]: the sections have unit
 * gain at DC), as rig.engine.preprocess._section_forward.
 */
static PyObject *iir_section(PyObject *self, PyObject *args)
{
    PyObject *x_obj;
    Py_ssize_t n, k;
    double b0, b1, b2, a1, a2;
    if (!PyArg_ParseTuple(args, "Onnddddd", &x_obj, &n, &k, &b0, &b1, &b2, &a1, &a2))
        return NULL;
    if (n < 0 || k < 0) {
        PyErr_SetString(PyExc_ValueError, "iir_section: negative shape");
        return NULL;
    }
    Py_buffer xb;
    if (get_buffer(x_obj, &xb, 1, sizeof(double), n * k, "iir_section x") < 0)
        return NULL;
    double *x = (double *)xb.buf;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t c = 0; c < k && n > 0; c++) {
        double x1 = x[c], x2 = x[c], y1 = x[c], y2 = x[c];
        for (Py_ssize_t i = 0; i < n; i++) {
            const double xi = x[i * k + c];
            const double yi = b0 * xi + b1 * x1 + b2 * x2 - a1 * y1 - a2 * y2;
            x2 = x1;
            x1 = xi;
            y2 = y1;
            y1 = yi;
            x[i * k + c] = yi;
        }
    }
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&xb);
    Py_RETURN_NONE;
}

/* hull(x, y) -> list of indices
 *
 * The convex hull of the points (x, y) (float64[n] each, finite), as
 * rig.engine.sway.hull.hull_indices computes it, step for step, so the same vertices in the
 * same order: the Akl-Toussaint prefilter (the first extreme point in each of eight
 * directions, x, y, x + y, x - y; points strictly inside their polygon dropped), then
 * Andrew's monotone chain over the rest sorted by (x, y, index), exact duplicates dropped
 * (the first kept), collinear points dropped (a turn is kept when its cross product is > 0).
 * Counter-clockwise; fewer than three indices for collinear or coincident points.
 */
typedef struct {
    double x, y;
    Py_ssize_t i;
} point;

static int by_xy_index(const void *pa, const void *pb)
{
    const point *a = (const point *)pa, *b = (const point *)pb;
    if (a->x != b->x)
        return a->x < b->x ? -1 : 1;
    if (a->y != b->y)
        return a->y < b->y ? -1 : 1;
    return (a->i > b->i) - (a->i < b->i);
}

static double cross(const point *o, const point *a, const point *p)
{
    return (a->x - o->x) * (p->y - o->y) - (a->y - o->y) * (p->x - o->x);
}

/* _hull_of: sorts pts (n of them) in place, drops duplicates, and writes the hull's points
 * (or the fewer than three distinct points) to out; returns how many. out holds 2n + 2. */
static Py_ssize_t hull_of(point *pts, Py_ssize_t n, point *out)
{
    qsort(pts, (size_t)n, sizeof(point), by_xy_index);
    Py_ssize_t m = 0;
    for (Py_ssize_t k = 0; k < n; k++)
        if (m == 0 || pts[k].x != pts[m - 1].x || pts[k].y != pts[m - 1].y)
            pts[m++] = pts[k];
    if (m < 3) {
        memcpy(out, pts, (size_t)m * sizeof(point));
        return m;
    }
    Py_ssize_t len = 0;
    for (Py_ssize_t k = 0; k < m; k++) {                      /* lower half */
        while (len >= 2 && !(cross(&out[len - 2], &out[len - 1], &pts[k]) > 0))
            len--;
        out[len++] = pts[k];
    }
    const Py_ssize_t lower = len;                              /* the upper half's own stack */
    for (Py_ssize_t k = m - 1; k >= 0; k--) {                 /* upper half */
        while (len - lower >= 2 && !(cross(&out[len - 2], &out[len - 1], &pts[k]) > 0))
            len--;
        out[len++] = pts[k];
    }
    /* lower[:-1] + upper[:-1]: each half ends where the other starts */
    memmove(out + lower - 1, out + lower, (size_t)(len - lower - 1) * sizeof(point));
    return len - 2;
}

static PyObject *hull(PyObject *self, PyObject *args)
{
    PyObject *x_obj, *y_obj;
    if (!PyArg_ParseTuple(args, "OO", &x_obj, &y_obj))
        return NULL;
    Py_buffer xb, yb;
    if (get_buffer(x_obj, &xb, 0, sizeof(double), 0, "hull x") < 0)
        return NULL;
    Py_ssize_t n = xb.len / (Py_ssize_t)sizeof(double);
    if (get_buffer(y_obj, &yb, 0, sizeof(double), n, "hull y") < 0) {
        PyBuffer_Release(&xb);
        return NULL;
    }
    const double *x = (const double *)xb.buf, *y = (const double *)yb.buf;
    point *cand = (point *)malloc((size_t)(n + 8) * sizeof(point));
    point *out = (point *)malloc((size_t)(2 * n + 18) * sizeof(point));
    Py_ssize_t count = 0;
    if (cand != NULL && out != NULL && n > 0) {
        /* the first extreme in each direction (numpy's argmin / argmax) */
        Py_ssize_t ext[8] = {0, 0, 0, 0, 0, 0, 0, 0};
        double lo[4] = {x[0], y[0], x[0] + y[0], x[0] - y[0]};
        double hi[4] = {lo[0], lo[1], lo[2], lo[3]};
        for (Py_ssize_t k = 1; k < n; k++) {
            const double v[4] = {x[k], y[k], x[k] + y[k], x[k] - y[k]};
            for (int d = 0; d < 4; d++) {
                if (v[d] < lo[d]) {
                    lo[d] = v[d];
                    ext[2 * d] = k;
                }
                if (v[d] > hi[d]) {
                    hi[d] = v[d];
                    ext[2 * d + 1] = k;
                }
            }
        }
        point poly[8], ring[18];
        for (int d = 0; d < 8; d++) {
            poly[d].x = x[ext[d]];
            poly[d].y = y[ext[d]];
            poly[d].i = ext[d];
        }
        /* np.unique of the indices: duplicates of the same index dropped before the chain */
        qsort(poly, 8, sizeof(point), by_xy_index);
        Py_ssize_t u = 0;
        for (Py_ssize_t k = 0; k < 8; k++)
            if (u == 0 || poly[k].i != poly[u - 1].i)
                poly[u++] = poly[k];
        const Py_ssize_t nr = hull_of(poly, u, ring);
        /* each edge p -> q of the ring: (q - p) once; a point is inside when it is strictly
         * left of every edge, (qx - px) (y - py) - (qy - py) (x - px) > 0, as in numpy */
        double ex[8], ey[8], px[8], py[8];
        for (Py_ssize_t e = 0; e < nr && nr >= 3; e++) {
            const point *p = &ring[e], *q = &ring[e + 1 < nr ? e + 1 : 0];
            ex[e] = q->x - p->x;
            ey[e] = q->y - p->y;
            px[e] = p->x;
            py[e] = p->y;
        }
        for (Py_ssize_t k = 0; k < n; k++) {
            int inside = nr >= 3;
            for (Py_ssize_t e = 0; e < nr && nr >= 3; e++)
                inside &= ex[e] * (y[k] - py[e]) - ey[e] * (x[k] - px[e]) > 0;
            if (!inside) {
                cand[count].x = x[k];
                cand[count].y = y[k];
                cand[count].i = k;
                count++;
            }
        }
        count = hull_of(cand, count, out);
    }
    PyBuffer_Release(&xb);
    PyBuffer_Release(&yb);
    free(cand);
    if (out == NULL || (cand == NULL && n > 0)) {
        free(out);
        return PyErr_NoMemory();
    }
    PyObject *list = PyList_New(count);
    for (Py_ssize_t k = 0; list != NULL && k < count; k++) {
        PyObject *v = PyLong_FromSsize_t(out[k].i);
        if (v == NULL) {
            Py_CLEAR(list);
            break;
        }
        PyList_SET_ITEM(list, k, v);
    }
    free(out);
    return list;
}

/* linfit_ranges(u, v, rows, m, i, j, c, out)
 *
 * Least-squares lines of each row of v (float64[rows * m]) against u (float64[m]) over the
 * index ranges [i, j) (int64[rows * c] each): out (float64[3 * rows * c]) gets the slopes,
 * then the intercepts, then the sums of squared errors. From the prefix sums of 1, u, v,
 * u u, u v and v v along each row, summed in order, and the formulas of
 * rig.engine.sway.diffusion._fit, in the same order of operations, so the same numbers.
 */
static PyObject *linfit_ranges(PyObject *self, PyObject *args)
{
    PyObject *u_obj, *v_obj, *i_obj, *j_obj, *out_obj;
    Py_ssize_t rows, m, c;
    if (!PyArg_ParseTuple(args, "OOnnOOnO", &u_obj, &v_obj, &rows, &m, &i_obj, &j_obj, &c,
                          &out_obj))
        return NULL;
    if (rows < 0 || m < 0 || c < 0) {
        PyErr_SetString(PyExc_ValueError, "linfit_ranges: negative shape");
        return NULL;
    }
    Py_buffer ub, vb, ib, jb, ob;
    if (get_buffer(u_obj, &ub, 0, sizeof(double), m, "linfit_ranges u") < 0)
        return NULL;
    if (get_buffer(v_obj, &vb, 0, sizeof(double), rows * m, "linfit_ranges v") < 0)
        goto fail_u;
    if (get_buffer(i_obj, &ib, 0, sizeof(int64_t), rows * c, "linfit_ranges i") < 0)
        goto fail_v;
    if (get_buffer(j_obj, &jb, 0, sizeof(int64_t), rows * c, "linfit_ranges j") < 0)
        goto fail_i;
    if (get_buffer(out_obj, &ob, 1, sizeof(double), 3 * rows * c, "linfit_ranges out") < 0)
        goto fail_j;
    const double *u = (const double *)ub.buf, *v = (const double *)vb.buf;
    const int64_t *ii = (const int64_t *)ib.buf, *jj = (const int64_t *)jb.buf;
    double *out = (double *)ob.buf;
    int bad = 0;
    for (Py_ssize_t k = 0; k < rows * c; k++)
        if (ii[k] < 0 || jj[k] > m || ii[k] > jj[k])
            bad = 1;
    /* prefix sums of one row: 6 columns of m + 1 */
    double *pre = bad ? NULL : (double *)malloc((size_t)(m + 1) * 6 * sizeof(double));
    if (!bad && pre == NULL)
        bad = 2;
    for (Py_ssize_t r = 0; !bad && r < rows; r++) {
        const double *vr = v + r * m;
        double *s1 = pre, *su = pre + (m + 1), *sv = pre + 2 * (m + 1), *suu = pre + 3 * (m + 1);
        double *suv = pre + 4 * (m + 1), *svv = pre + 5 * (m + 1);
        s1[0] = su[0] = sv[0] = suu[0] = suv[0] = svv[0] = 0.0;
        for (Py_ssize_t k = 0; k < m; k++) {
            s1[k + 1] = s1[k] + 1.0;
            su[k + 1] = su[k] + u[k];
            sv[k + 1] = sv[k] + vr[k];
            suu[k + 1] = suu[k] + u[k] * u[k];
            suv[k + 1] = suv[k] + u[k] * vr[k];
            svv[k + 1] = svv[k] + vr[k] * vr[k];
        }
        for (Py_ssize_t q = 0; q < c; q++) {
            const Py_ssize_t a = (Py_ssize_t)ii[r * c + q], b = (Py_ssize_t)jj[r * c + q];
            const double n = s1[b] - s1[a], Su = su[b] - su[a], Sv = sv[b] - sv[a];
            const double Suu = suu[b] - suu[a], Suv = suv[b] - suv[a], Svv = svv[b] - svv[a];
            const double sxx = Suu - Su * Su / n;
            const double sxy = Suv - Su * Sv / n;
            const double slope = sxy / sxx;
            const double icpt = (Sv - slope * Su) / n;
            double sse = Svv - Sv * Sv / n - slope * sxy;
            if (!(sse >= 0.0) && !isnan(sse))     /* np.maximum(sse, 0): NaN stays NaN */
                sse = 0.0;
            out[r * c + q] = slope;
            out[rows * c + r * c + q] = icpt;
            out[2 * rows * c + r * c + q] = sse;
        }
    }
    free(pre);
    PyBuffer_Release(&ob);
    PyBuffer_Release(&jb);
    PyBuffer_Release(&ib);
    PyBuffer_Release(&vb);
    PyBuffer_Release(&ub);
    if (bad == 2)
        return PyErr_NoMemory();
    if (bad) {
        PyErr_SetString(PyExc_ValueError, "linfit_ranges: a range is outside 0 .. m");
        return NULL;
    }
    Py_RETURN_NONE;
fail_j:
    PyBuffer_Release(&jb);
fail_i:
    PyBuffer_Release(&ib);
fail_v:
    PyBuffer_Release(&vb);
fail_u:
    PyBuffer_Release(&ub);
    return NULL;
}

/* window_average(t, values, n, k, grid, g, window, out)
 *
 * rig.engine.preprocess.window_average, step for step (the same sums and interpolation
 * formula as its numpy code and np.interp, in the same order, so the same numbers): sample
 * i of t (float64[n], increasing) holds values[i] (float64[n * k], row-major) from the
 * midpoint with its predecessor to the midpoint with its successor; out[q] (float64[g * k])
 * is the mean of that step function over [grid[q] - window / 2, grid[q] + window / 2]
 * clipped to the first and last edges, from its running integral interpolated linearly.
 * grid (float64[g]) must be non-decreasing: each window is found by moving forward.
 */
static double interp_at(const double *e, const double *cum, Py_ssize_t ne, Py_ssize_t k,
                        Py_ssize_t c, double x, Py_ssize_t *j)
{
    /* np.interp: the last knot's value at or beyond it, else the segment e[j] <= x < e[j+1] */
    if (x >= e[ne - 1])
        return cum[(ne - 1) * k + c];
    if (x < e[0])
        return cum[c];
    while (*j + 1 < ne - 1 && e[*j + 1] <= x)
        (*j)++;
    const Py_ssize_t a = *j;
    const double slope = (cum[(a + 1) * k + c] - cum[a * k + c]) / (e[a + 1] - e[a]);
    double r = slope * (x - e[a]) + cum[a * k + c];
    if (isnan(r))
        r = slope * (x - e[a + 1]) + cum[(a + 1) * k + c];
    return r;
}

static PyObject *window_average(PyObject *self, PyObject *args)
{
    PyObject *t_obj, *v_obj, *g_obj, *out_obj;
    Py_ssize_t n, k, g;
    double w;
    if (!PyArg_ParseTuple(args, "OOnnOndO", &t_obj, &v_obj, &n, &k, &g_obj, &g, &w, &out_obj))
        return NULL;
    if (n < 2 || k < 1 || g < 0) {
        PyErr_SetString(PyExc_ValueError, "window_average: need 2 samples, 1 channel");
        return NULL;
    }
    Py_buffer tb, vb, gb, ob;
    if (get_buffer(t_obj, &tb, 0, sizeof(double), n, "window_average t") < 0)
        return NULL;
    if (get_buffer(v_obj, &vb, 0, sizeof(double), n * k, "window_average values") < 0)
        goto fail_t;
    if (get_buffer(g_obj, &gb, 0, sizeof(double), g, "window_average grid") < 0)
        goto fail_v;
    if (get_buffer(out_obj, &ob, 1, sizeof(double), g * k, "window_average out") < 0)
        goto fail_g;
    const double *t = (const double *)tb.buf, *v = (const double *)vb.buf;
    const double *grid = (const double *)gb.buf;
    double *out = (double *)ob.buf;
    const Py_ssize_t ne = n + 1;
    double *e = (double *)malloc((size_t)ne * sizeof(double));
    double *cum = (double *)malloc((size_t)ne * (size_t)k * sizeof(double));
    int bad = (e == NULL || cum == NULL) ? 2 : 0;
    for (Py_ssize_t q = 1; !bad && q < g; q++)
        if (!(grid[q] >= grid[q - 1]))
            bad = 1;
    if (!bad) {
        e[0] = t[0] - 0.5 * (t[1] - t[0]);
        for (Py_ssize_t i = 1; i < n; i++)
            e[i] = 0.5 * (t[i] + t[i - 1]);
        e[n] = t[n - 1] + 0.5 * (t[n - 1] - t[n - 2]);
        for (Py_ssize_t c = 0; c < k; c++)
            cum[c] = 0.0;
        for (Py_ssize_t i = 0; i < n; i++) {
            const double width = e[i + 1] - e[i];
            for (Py_ssize_t c = 0; c < k; c++)
                cum[(i + 1) * k + c] = cum[i * k + c] + v[i * k + c] * width;
        }
        for (Py_ssize_t c = 0; c < k; c++) {
            Py_ssize_t jlo = 0, jhi = 0;
            for (Py_ssize_t q = 0; q < g; q++) {
                double lo = grid[q] - 0.5 * w, hi = grid[q] + 0.5 * w;
                lo = lo < e[0] ? e[0] : (lo > e[n] ? e[n] : lo);      /* np.clip */
                hi = hi < e[0] ? e[0] : (hi > e[n] ? e[n] : hi);
                const double a = interp_at(e, cum, ne, k, c, hi, &jhi);
                const double b = interp_at(e, cum, ne, k, c, lo, &jlo);
                out[q * k + c] = (a - b) / (hi - lo);
            }
        }
    }
    free(e);
    free(cum);
    PyBuffer_Release(&ob);
    PyBuffer_Release(&gb);
    PyBuffer_Release(&vb);
    PyBuffer_Release(&tb);
    if (bad == 2)
        return PyErr_NoMemory();
    if (bad) {
        PyErr_SetString(PyExc_ValueError, "window_average: grid is not non-decreasing");
        return NULL;
    }
    Py_RETURN_NONE;
fail_g:
    PyBuffer_Release(&gb);
fail_v:
    PyBuffer_Release(&vb);
fail_t:
    PyBuffer_Release(&tb);
    return NULL;
}

static PyMethodDef methods[] = {
    {"sampen_counts", sampen_counts, METH_VARARGS,
     "sampen_counts(s, order, m, r) -> (A, B): sample entropy pair counts."},
    {"dfa_rss", dfa_rss, METH_VARARGS,
     "dfa_rss(profile, rows, n, sizes, out): DFA residual sums of squares per box size."},
    {"iir_section", iir_section, METH_VARARGS,
     "iir_section(x, n, k, b0, b1, b2, a1, a2): one IIR section, in place, from steady state."},
    {"linfit_ranges", linfit_ranges, METH_VARARGS,
     "linfit_ranges(u, v, rows, m, i, j, c, out): least-squares lines over index ranges."},
    {"window_average", window_average, METH_VARARGS,
     "window_average(t, values, n, k, grid, g, window, out): window means onto a grid."},
    {"hull", hull, METH_VARARGS,
     "hull(x, y) -> indices: the convex hull's vertices, counter-clockwise."},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_kernels",
                                    "Compiled inner loops of rig.engine (see native.py).", -1,
                                    methods, NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__kernels(void)
{
    return PyModule_Create(&module);
}
