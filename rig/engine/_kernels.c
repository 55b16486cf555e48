/* Compiled inner loops of the analysis engine (module rig.engine._kernels).
 *
 * Four loops that numpy can only run at a cost (many short vectorised steps, a pass over
 * the data per box size, or a Python loop): the sample-entropy pair count, the DFA
 * residuals, a second-order IIR section and the convex hull's monotone chain. Each one computes exactly what the numpy code beside it computes (the pure
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

/* hull_chain(x, y) -> list of indices
 *
 * Andrew's monotone chain on points sorted by (x, y), without duplicates (float64[n] each):
 * the hull's indices counter-clockwise, collinear points dropped; the same predicate (cross
 * product > 0 keeps a turn) as rig.engine.sway.hull._chain, so the same vertices.
 */
static double cross(const double *x, const double *y, Py_ssize_t o, Py_ssize_t a, Py_ssize_t i)
{
    return (x[a] - x[o]) * (y[i] - y[o]) - (y[a] - y[o]) * (x[i] - x[o]);
}

static PyObject *hull_chain(PyObject *self, PyObject *args)
{
    PyObject *x_obj, *y_obj;
    if (!PyArg_ParseTuple(args, "OO", &x_obj, &y_obj))
        return NULL;
    Py_buffer xb, yb;
    if (get_buffer(x_obj, &xb, 0, sizeof(double), 0, "hull_chain x") < 0)
        return NULL;
    Py_ssize_t n = xb.len / (Py_ssize_t)sizeof(double);
    if (get_buffer(y_obj, &yb, 0, sizeof(double), n, "hull_chain y") < 0) {
        PyBuffer_Release(&xb);
        return NULL;
    }
    const double *x = (const double *)xb.buf, *y = (const double *)yb.buf;
    Py_ssize_t *out = (Py_ssize_t *)malloc((size_t)(2 * n + 2) * sizeof(Py_ssize_t));
    Py_ssize_t len = 0;
    if (out != NULL && n > 0) {
        for (Py_ssize_t i = 0; i < n; i++) {                 /* lower half */
            while (len >= 2 && !(cross(x, y, out[len - 2], out[len - 1], i) > 0))
                len--;
            out[len++] = i;
        }
        const Py_ssize_t lower = len;                         /* the upper half's own stack */
        for (Py_ssize_t i = n - 1; i >= 0; i--) {            /* upper half */
            while (len - lower >= 2 && !(cross(x, y, out[len - 2], out[len - 1], i) > 0))
                len--;
            out[len++] = i;
        }
        /* lower[:-1] + upper[:-1]: each half ends where the other starts */
        memmove(out + lower - 1, out + lower, (size_t)(len - lower - 1) * sizeof(Py_ssize_t));
        len -= 2;
    }
    PyBuffer_Release(&xb);
    PyBuffer_Release(&yb);
    if (out == NULL)
        return PyErr_NoMemory();
    PyObject *list = PyList_New(len);
    for (Py_ssize_t i = 0; list != NULL && i < len; i++) {
        PyObject *v = PyLong_FromSsize_t(out[i]);
        if (v == NULL) {
            Py_CLEAR(list);
            break;
        }
        PyList_SET_ITEM(list, i, v);
    }
    free(out);
    return list;
}

static PyMethodDef methods[] = {
    {"sampen_counts", sampen_counts, METH_VARARGS,
     "sampen_counts(s, order, m, r) -> (A, B): sample entropy pair counts."},
    {"dfa_rss", dfa_rss, METH_VARARGS,
     "dfa_rss(profile, rows, n, sizes, out): DFA residual sums of squares per box size."},
    {"iir_section", iir_section, METH_VARARGS,
     "iir_section(x, n, k, b0, b1, b2, a1, a2): one IIR section, in place, from steady state."},
    {"hull_chain", hull_chain, METH_VARARGS,
     "hull_chain(x, y) -> indices: monotone chain of sorted points, counter-clockwise."},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_kernels",
                                    "Compiled inner loops of rig.engine (see native.py).", -1,
                                    methods, NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__kernels(void)
{
    return PyModule_Create(&module);
}
