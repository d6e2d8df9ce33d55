/* Compiled line scanner for stallscope's parse stage (optional: glog.py falls back to Python without it).
 *
 * Why it exists: a broker log is ~98 % ordinary glog lines and ~2 % events, and Python spends about 13 us per
 * event (regexes, dicts, csv). This scanner proves each line's glog prefix, looks up catalogue keys, and for
 * recognisers whose regex is a plain template (literals and integer captures, see compiled.py) renders the
 * events.csv row itself. Every other line that may matter (no glog prefix, a key of a recogniser it cannot run,
 * bytes outside printable ASCII, an integer too long for int64) is handed back to Python as a *candidate*, so
 * the Python path keeps the last word on anything unusual. Tests require byte-identical output to the Python
 * path.
 *
 * Buffer contract (logs/scan.py `chunks`): buf[0] is a newline sentinel, buf[cut] is a newline, lines start
 * after every newline in buf[0:cut].
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <ctype.h>
#include <string.h>

#define TEXT_MAX 500
#define MAX_DIGITS 18 /* fits int64 with room; longer numbers go to Python */

typedef struct {
    char *data;
    Py_ssize_t len, cap;
} Buf;

static int buf_reserve(Buf *b, Py_ssize_t extra) {
    if (b->len + extra <= b->cap) return 0;
    Py_ssize_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + extra) cap *= 2;
    char *p = realloc(b->data, (size_t)cap);
    if (!p) return -1;
    b->data = p;
    b->cap = cap;
    return 0;
}

static void buf_put(Buf *b, const char *s, Py_ssize_t n) { memcpy(b->data + b->len, s, (size_t)n); b->len += n; }

static void buf_int(Buf *b, int64_t v) {
    char tmp[24];
    int n = 0;
    uint64_t u = v < 0 ? (uint64_t)(-(v + 1)) + 1 : (uint64_t)v;
    do { tmp[n++] = (char)('0' + u % 10); u /= 10; } while (u);
    if (v < 0) tmp[n++] = '-';
    while (n) b->data[b->len++] = tmp[--n];
}

/* A csv.writer (QUOTE_MINIMAL) cell for printable ASCII: quoted when it holds a comma or a quote. */
static void buf_cell(Buf *b, const char *s, Py_ssize_t n) {
    if (!memchr(s, ',', (size_t)n) && !memchr(s, '"', (size_t)n)) { buf_put(b, s, n); return; }
    b->data[b->len++] = '"';
    for (Py_ssize_t i = 0; i < n; i++) {
        if (s[i] == '"') b->data[b->len++] = '"';
        b->data[b->len++] = s[i];
    }
    b->data[b->len++] = '"';
}

typedef struct { /* one piece of a template: a literal, or an integer capture */
    char *lit;
    Py_ssize_t len; /* literal length; -1 for a capture */
    int minus;      /* capture may start with '-' */
    int64_t lo, hi; /* the catalogue's limits: a value outside goes to Python, which counts it unreadable */
} Piece;

typedef struct {
    char *key;
    Py_ssize_t keylen;
    int compiled;
    Piece *pieces;
    int npieces, ncaps;
    char *kind;
    Py_ssize_t kindlen;
    int nout;
    char **out_name; /* pre-rendered '""name"":' */
    Py_ssize_t *out_namelen;
    int *out_cap;
    int broker_cap, dur_cap;
} Rec;

typedef struct {
    PyObject_HEAD
    Rec *recs;
    int nrecs;
    int *by_byte[256]; /* recogniser indices whose key starts with that byte (or is empty), in catalogue order */
    int nby_byte[256];
    char *head; /* '<name cell>,' */
    Py_ssize_t headlen;
    char *role; /* the role cell, csv-rendered by Python */
    Py_ssize_t rolelen;
    char *broker; /* the broker cell of every row (a broker log's index), or empty: from broker_cap */
    Py_ssize_t brokerlen;
} Scanner;

static inline int isdig(unsigned char c) { return c >= '0' && c <= '9'; }

static int digits(const unsigned char *p, int n) {
    for (int i = 0; i < n; i++) if (!isdig(p[i])) return 0;
    return 1;
}

static int64_t num(const unsigned char *p, int n) {
    int64_t v = 0;
    for (int i = 0; i < n; i++) v = v * 10 + (p[i] - '0');
    return v;
}

/* Days from 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil); -1 in *ok when invalid,
 * with the same validity rules as Python's datetime.date (year 1..9999). */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d, int *ok) {
    static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    *ok = y >= 1 && y <= 9999 && m >= 1 && m <= 12 && d >= 1 && d <= dim[m - 1] + (m == 2 && leap);
    if (!*ok) return 0;
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

typedef struct { /* the glog prefix of one line */
    Py_ssize_t src, srclen, tid, tidlen, msg;
} Prefix;

/* [IWEF]\d{8} \d\d:\d\d:\d\d\.\d{6} +\d+ [^ :\n]+:\d+\]  then an optional space; 1 when it holds. */
static int prefix(const unsigned char *s, Py_ssize_t n, Prefix *px) {
    if (n < 32) return 0; /* the shortest prefix: 25 + " 1 a:1]" */
    unsigned char c = s[0];
    if (c != 'I' && c != 'W' && c != 'E' && c != 'F') return 0;
    if (!digits(s + 1, 8) || s[9] != ' ' || !digits(s + 10, 2) || s[12] != ':' || !digits(s + 13, 2) ||
        s[15] != ':' || !digits(s + 16, 2) || s[18] != '.' || !digits(s + 19, 6) || s[25] != ' ')
        return 0;
    Py_ssize_t i = 26;
    while (i < n && s[i] == ' ') i++;
    px->tid = i;
    while (i < n && isdig(s[i])) i++;
    px->tidlen = i - px->tid;
    if (!px->tidlen || i >= n || s[i] != ' ') return 0;
    px->src = ++i;
    while (i < n && s[i] != ' ' && s[i] != ':' && s[i] != '\n') i++;
    if (i == px->src || i >= n || s[i] != ':') return 0;
    Py_ssize_t d = ++i;
    while (i < n && isdig(s[i])) i++;
    if (i == d || i >= n || s[i] != ']') return 0;
    px->srclen = i - px->src;
    i++;
    px->msg = i + (i < n && s[i] == ' ');
    return 1;
}

static int printable(const unsigned char *s, Py_ssize_t n) {
    for (Py_ssize_t i = 0; i < n; i++)
        if ((s[i] < 0x20 && s[i] != '\t') || s[i] > 0x7e) return 0;
    return 1;
}

enum { NO_MATCH = 0, MATCH = 1, PUNT = 2 };

/* Run one template on msg; 1 and the captures when it matches (re.match semantics: trailing text allowed). */
static int run_template(const Rec *r, const unsigned char *m, Py_ssize_t n, int64_t *caps) {
    Py_ssize_t i = 0;
    int c = 0;
    for (int k = 0; k < r->npieces; k++) {
        const Piece *p = &r->pieces[k];
        if (p->len >= 0) {
            if (n - i < p->len || memcmp(m + i, p->lit, (size_t)p->len) != 0) return NO_MATCH;
            i += p->len;
            continue;
        }
        int neg = p->minus && i < n && m[i] == '-';
        Py_ssize_t d = i + neg, e = d;
        while (e < n && isdig(m[e])) e++;
        if (e == d) return NO_MATCH;
        if (e - d > MAX_DIGITS) return PUNT;
        int64_t v = num(m + d, (int)(e - d));
        if (neg) v = -v;
        if (v < p->lo || v > p->hi) return PUNT;
        caps[c++] = v;
        i = e;
    }
    /* a number that ends the template must end there too: "bytes_read=1.5" or "=12abc" is not 1 or 12 */
    if (r->npieces && r->pieces[r->npieces - 1].len < 0 && i < n &&
        (isalnum(m[i]) || m[i] == '_' || (m[i] == '.' && i + 1 < n && isdig(m[i + 1]))))
        return PUNT;
    return MATCH;
}

static int emit(Scanner *sc, Buf *out, const Rec *r, const int64_t *caps, int64_t line, const unsigned char *s,
                const Prefix *px, Py_ssize_t mend) {
    Py_ssize_t msglen = mend - px->msg;
    if (msglen > TEXT_MAX) msglen = TEXT_MAX;
    Py_ssize_t need = sc->headlen + sc->rolelen + sc->brokerlen + r->kindlen + 2 * (px->srclen + msglen) + 24 * 8 + 16 + 2;
    for (int k = 0; k < r->nout; k++) need += r->out_namelen[k] + 22;
    if (buf_reserve(out, need) < 0) return -1;
    buf_put(out, sc->head, sc->headlen);
    buf_int(out, line);
    out->data[out->len++] = ',';
    int ok;
    int64_t days = days_from_civil(num(s + 1, 4), num(s + 5, 2), num(s + 7, 2), &ok);
    if (ok) {
        int64_t secs = days * 86400 + num(s + 10, 2) * 3600 + num(s + 13, 2) * 60 + num(s + 16, 2);
        buf_int(out, secs * 1000000 + num(s + 19, 6));
    }
    out->data[out->len++] = ',';
    out->data[out->len++] = (char)s[0];
    out->data[out->len++] = ',';
    buf_int(out, num(s + px->tid, (int)px->tidlen));
    out->data[out->len++] = ',';
    buf_cell(out, (const char *)s + px->src, px->srclen);
    out->data[out->len++] = ',';
    buf_put(out, sc->role, sc->rolelen);
    out->data[out->len++] = ',';
    if (sc->brokerlen) buf_put(out, sc->broker, sc->brokerlen);
    else if (r->broker_cap >= 0) buf_int(out, caps[r->broker_cap]);
    out->data[out->len++] = ',';
    buf_put(out, r->kind, r->kindlen);
    out->data[out->len++] = ',';
    if (r->dur_cap >= 0) buf_int(out, caps[r->dur_cap]);
    out->data[out->len++] = ',';
    if (r->nout == 0) {
        buf_put(out, "{}", 2);
    } else {
        buf_put(out, "\"{", 2);
        for (int k = 0; k < r->nout; k++) {
            if (k) out->data[out->len++] = ',';
            buf_put(out, r->out_name[k], r->out_namelen[k]);
            buf_int(out, caps[r->out_cap[k]]);
        }
        buf_put(out, "}\"", 2);
    }
    out->data[out->len++] = ',';
    buf_cell(out, (const char *)s + px->msg, msglen);
    out->data[out->len++] = '\n';
    return 0;
}

typedef struct {
    int64_t *v;
    Py_ssize_t len, cap;
} Ints;

static int ints_push(Ints *a, int64_t x) {
    if (a->len == a->cap) {
        Py_ssize_t cap = a->cap ? 2 * a->cap : 1024;
        int64_t *p = realloc(a->v, (size_t)cap * sizeof(int64_t));
        if (!p) return -1;
        a->v = p;
        a->cap = cap;
    }
    a->v[a->len++] = x;
    return 0;
}

static PyObject *ints_bytes(Ints *a) {
    return PyBytes_FromStringAndSize((const char *)a->v, a->len * (Py_ssize_t)sizeof(int64_t));
}

/* One line with a glog prefix: NO_MATCH (plain record), MATCH (row written) or PUNT (Python decides). */
static int line_kind(Scanner *sc, const unsigned char *s, Py_ssize_t n, const Prefix *px, int64_t line, Buf *out) {
    Py_ssize_t mend = n;
    while (mend > px->msg && s[mend - 1] == '\r') mend--;
    const unsigned char *m = s + px->msg;
    Py_ssize_t mlen = mend - px->msg;
    int nb = sc->nby_byte[mlen > 0 ? m[0] : 0];
    const int *cands = sc->by_byte[mlen > 0 ? m[0] : 0];
    int checked = 0, keyed = 0;
    int64_t caps[64];
    for (int j = 0; j < nb; j++) {
        const Rec *r = &sc->recs[cands[j]];
        if (mlen < r->keylen || memcmp(m, r->key, (size_t)r->keylen) != 0) continue;
        if (!r->compiled) return PUNT;
        keyed = 1;
        if (!checked) {
            if (!printable(s, mend) || px->tidlen > MAX_DIGITS) return PUNT;
            checked = 1;
        }
        int got = run_template(r, m, mlen, caps);
        if (got == NO_MATCH) continue;
        if (got == PUNT) return PUNT;
        return emit(sc, out, r, caps, line, s, px, mend) < 0 ? -1 : MATCH;
    }
    return keyed ? PUNT : NO_MATCH; /* a known form that did not match: Python tells unreadable from plain */
}

static PyObject *Scanner_scan(Scanner *sc, PyObject *args) {
    Py_buffer view;
    Py_ssize_t cut;
    long long base;
    if (!sc->head) {
        PyErr_SetString(PyExc_RuntimeError, "Scanner is not initialised");
        return NULL;
    }
    if (!PyArg_ParseTuple(args, "y*nL", &view, &cut, &base)) return NULL;
    const unsigned char *b = view.buf;
    if (cut < 0 || cut >= view.len || b[cut] != '\n') {
        PyBuffer_Release(&view);
        PyErr_SetString(PyExc_ValueError, "buffer must hold a newline at cut");
        return NULL;
    }
    Buf out = {0};
    Ints lines = {0}, ends = {0}, cidx = {0}, cpos = {0};
    int64_t nlines = 0;
    int fail = 0;
    Py_BEGIN_ALLOW_THREADS
    Py_ssize_t p = 0; /* position of the newline before the current line */
    while (p < cut) {
        const unsigned char *s = b + p + 1;
        const unsigned char *e = memchr(s, '\n', (size_t)(cut - p));
        Py_ssize_t n = e - s;
        Prefix px;
        int k = prefix(s, n, &px) ? line_kind(sc, s, n, &px, base + nlines + 1, &out) : PUNT;
        if (k < 0) { fail = 1; break; }
        if (k == MATCH) {
            if (ints_push(&lines, base + nlines + 1) < 0 || ints_push(&ends, out.len) < 0) { fail = 1; break; }
        } else if (k == PUNT) {
            if (ints_push(&cidx, nlines) < 0 || ints_push(&cpos, p) < 0) { fail = 1; break; }
        }
        nlines++;
        p = e - b;
    }
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&view);
    PyObject *res = NULL;
    if (fail) {
        PyErr_NoMemory();
    } else {
        res = Py_BuildValue("(LNNNNN)", (long long)nlines, PyBytes_FromStringAndSize(out.data, out.len),
                            ints_bytes(&lines), ints_bytes(&ends), ints_bytes(&cidx), ints_bytes(&cpos));
    }
    free(out.data);
    free(lines.v);
    free(ends.v);
    free(cidx.v);
    free(cpos.v);
    return res;
}

static char *dup_bytes(PyObject *o, Py_ssize_t *len) {
    char *s;
    if (PyBytes_AsStringAndSize(o, &s, len) < 0) return NULL;
    char *d = malloc((size_t)*len + 1);
    if (!d) { PyErr_NoMemory(); return NULL; }
    memcpy(d, s, (size_t)*len);
    d[*len] = 0;
    return d;
}

static void free_recs(Scanner *sc) {
    for (int i = 0; i < sc->nrecs; i++) {
        Rec *r = &sc->recs[i];
        free(r->key);
        free(r->kind);
        for (int k = 0; k < r->npieces; k++) free(r->pieces[k].lit);
        free(r->pieces);
        for (int k = 0; k < r->nout; k++) free(r->out_name[k]);
        free(r->out_name);
        free(r->out_namelen);
        free(r->out_cap);
    }
    free(sc->recs);
    sc->recs = NULL;
    sc->nrecs = 0;
    for (int c = 0; c < 256; c++) { free(sc->by_byte[c]); sc->by_byte[c] = NULL; sc->nby_byte[c] = 0; }
    free(sc->head);
    free(sc->role);
    free(sc->broker);
    sc->head = sc->role = sc->broker = NULL;
}

/* rec spec: (key, None) for a recogniser Python must run, or
 * (key, kind, pieces, outputs, broker_cap, dur_cap, limits) with pieces a sequence of bytes (literal) or bool
 * (integer capture; True when it may be negative), outputs a sequence of (pre-rendered json name, capture index)
 * and limits a sequence of (min, max) per capture. */
static int load_rec(Rec *r, PyObject *spec) {
    Py_ssize_t n = PyTuple_Check(spec) ? PyTuple_GET_SIZE(spec) : -1;
    if (n != 2 && n != 7) { PyErr_SetString(PyExc_ValueError, "bad recogniser spec"); return -1; }
    if (!(r->key = dup_bytes(PyTuple_GET_ITEM(spec, 0), &r->keylen))) return -1;
    r->broker_cap = r->dur_cap = -1;
    if (n == 2) return 0;
    r->compiled = 1;
    if (!(r->kind = dup_bytes(PyTuple_GET_ITEM(spec, 1), &r->kindlen))) return -1;
    PyObject *pieces = PySequence_Fast(PyTuple_GET_ITEM(spec, 2), "pieces must be a sequence");
    if (!pieces) return -1;
    int npieces = (int)PySequence_Fast_GET_SIZE(pieces);
    r->pieces = calloc((size_t)npieces + 1, sizeof(Piece));
    if (r->pieces) r->npieces = npieces;
    for (int k = 0; r->pieces && k < r->npieces; k++) {
        PyObject *it = PySequence_Fast_GET_ITEM(pieces, k);
        Piece *p = &r->pieces[k];
        if (PyBytes_Check(it)) {
            if (!(p->lit = dup_bytes(it, &p->len))) { Py_DECREF(pieces); return -1; }
        } else {
            p->len = -1;
            p->minus = PyObject_IsTrue(it);
            r->ncaps++;
        }
    }
    Py_DECREF(pieces);
    if (!r->pieces) { PyErr_NoMemory(); return -1; }
    if (r->ncaps > 64) { PyErr_SetString(PyExc_ValueError, "too many captures"); return -1; }
    PyObject *lims = PySequence_Fast(PyTuple_GET_ITEM(spec, 6), "limits must be a sequence");
    if (!lims) return -1;
    int badlim = PySequence_Fast_GET_SIZE(lims) != r->ncaps;
    for (int k = 0, c = 0; !badlim && k < r->npieces; k++) {
        Piece *p = &r->pieces[k];
        if (p->len >= 0) continue;
        PyObject *it = PySequence_Fast_GET_ITEM(lims, c++);
        if (!PyTuple_Check(it) || PyTuple_GET_SIZE(it) != 2) { badlim = 1; break; }
        p->lo = PyLong_AsLongLong(PyTuple_GET_ITEM(it, 0));
        p->hi = PyLong_AsLongLong(PyTuple_GET_ITEM(it, 1));
        badlim = PyErr_Occurred() != NULL;
    }
    Py_DECREF(lims);
    if (badlim) { if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "bad capture limits"); return -1; }
    PyObject *outs = PySequence_Fast(PyTuple_GET_ITEM(spec, 3), "outputs must be a sequence");
    if (!outs) return -1;
    int nout = (int)PySequence_Fast_GET_SIZE(outs);
    r->out_name = calloc((size_t)nout + 1, sizeof(char *));
    r->out_namelen = calloc((size_t)nout + 1, sizeof(Py_ssize_t));
    r->out_cap = calloc((size_t)nout + 1, sizeof(int));
    int bad = !r->out_name || !r->out_namelen || !r->out_cap;
    if (!bad) r->nout = nout;
    for (int k = 0; !bad && k < r->nout; k++) {
        PyObject *it = PySequence_Fast_GET_ITEM(outs, k);
        if (!PyTuple_Check(it) || PyTuple_GET_SIZE(it) != 2) { bad = 1; break; }
        r->out_name[k] = dup_bytes(PyTuple_GET_ITEM(it, 0), &r->out_namelen[k]);
        r->out_cap[k] = (int)PyLong_AsLong(PyTuple_GET_ITEM(it, 1));
        bad = !r->out_name[k] || r->out_cap[k] < 0 || r->out_cap[k] >= r->ncaps;
    }
    Py_DECREF(outs);
    r->broker_cap = (int)PyLong_AsLong(PyTuple_GET_ITEM(spec, 4));
    r->dur_cap = (int)PyLong_AsLong(PyTuple_GET_ITEM(spec, 5));
    if (bad || r->broker_cap >= r->ncaps || r->dur_cap >= r->ncaps || PyErr_Occurred()) {
        if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "bad recogniser outputs");
        return -1;
    }
    return 0;
}

static int Scanner_init(Scanner *sc, PyObject *args, PyObject *kw) {
    static char *names[] = {"recs", "head", "role", "broker", NULL};
    PyObject *recs, *head, *role, *broker;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OSSS", names, &recs, &head, &role, &broker)) return -1;
    free_recs(sc); /* a failed init leaves the scanner unusable (head NULL), never half-built */
    PyObject *seq = PySequence_Fast(recs, "recs must be a sequence");
    if (!seq) return -1;
    int nrecs = (int)PySequence_Fast_GET_SIZE(seq);
    sc->recs = calloc((size_t)nrecs + 1, sizeof(Rec));
    int err = !sc->recs;
    if (!err) sc->nrecs = nrecs;
    for (int i = 0; !err && i < sc->nrecs; i++) err = load_rec(&sc->recs[i], PySequence_Fast_GET_ITEM(seq, i)) < 0;
    Py_DECREF(seq);
    if (err) { if (!PyErr_Occurred()) PyErr_NoMemory(); free_recs(sc); return -1; }
    for (int c = 0; c < 256; c++) {
        sc->by_byte[c] = malloc(((size_t)sc->nrecs + 1) * sizeof(int));
        if (!sc->by_byte[c]) { free_recs(sc); PyErr_NoMemory(); return -1; }
        sc->nby_byte[c] = 0;
        for (int i = 0; i < sc->nrecs; i++)
            if (sc->recs[i].keylen == 0 || (unsigned char)sc->recs[i].key[0] == c)
                sc->by_byte[c][sc->nby_byte[c]++] = i;
    }
    char *h = dup_bytes(head, &sc->headlen);
    sc->role = dup_bytes(role, &sc->rolelen);
    sc->broker = dup_bytes(broker, &sc->brokerlen);
    if (!h || !sc->role || !sc->broker) { free(h); free_recs(sc); return -1; }
    sc->head = h; /* set last: scan() takes a non-NULL head as "initialised" */
    return 0;
}

static void Scanner_dealloc(Scanner *sc) {
    free_recs(sc);
    Py_TYPE(sc)->tp_free((PyObject *)sc);
}

/* shift_lines(rows, head_len, offset): add offset to the line column of each row (the second half of a split
 * file is scanned with line numbers relative to its start). */
static PyObject *shift_lines(PyObject *self, PyObject *args) {
    (void)self;
    Py_buffer v;
    Py_ssize_t head;
    long long off;
    if (!PyArg_ParseTuple(args, "y*nL", &v, &head, &off)) return NULL;
    const char *s = v.buf;
    Buf out = {0};
    Py_ssize_t i = 0;
    int bad = head < 0 || off < 0 || buf_reserve(&out, v.len + v.len / 8 + 64) < 0;
    while (!bad && i < v.len) {
        const char *e = memchr(s + i, '\n', (size_t)(v.len - i));
        Py_ssize_t end = e ? e - s + 1 : v.len, d = i + head, k = d;
        while (k < end && isdig((unsigned char)s[k])) k++;
        if (d >= end || k == d || k - d > MAX_DIGITS || k >= end || s[k] != ',' ||
            buf_reserve(&out, end - i + 24) < 0) { bad = 1; break; }
        int64_t line = num((const unsigned char *)s + d, (int)(k - d));
        if (line > INT64_MAX - off) { bad = 1; break; }
        buf_put(&out, s + i, head);
        buf_int(&out, line + off);
        buf_put(&out, s + k, end - k);
        i = end;
    }
    PyBuffer_Release(&v);
    PyObject *res = bad ? NULL : PyBytes_FromStringAndSize(out.data, out.len);
    if (bad) PyErr_SetString(PyExc_ValueError, "row without a line column after its head (or a bad offset)");
    free(out.data);
    return res;
}

static PyMethodDef Scanner_methods[] = {
    {"scan", (PyCFunction)Scanner_scan, METH_VARARGS,
     "scan(buf, cut, base) -> (lines, rows, row_lines, row_ends, cand_idx, cand_pos); int arrays as int64 bytes"},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject ScannerType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "stallscope.logs._fastscan.Scanner",
    .tp_basicsize = sizeof(Scanner),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Scanner(recs, head, role, broker): compiled recognisers for one log file; head, role and broker "
              "are csv-rendered cells (broker empty: taken from each recogniser's broker capture)",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Scanner_init,
    .tp_dealloc = (destructor)Scanner_dealloc,
    .tp_methods = Scanner_methods,
};

static PyMethodDef module_methods[] = {
    {"shift_lines", shift_lines, METH_VARARGS, "shift_lines(rows, head_len, offset) -> rows"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef moduledef = {
    PyModuleDef_HEAD_INIT, .m_name = "_fastscan", .m_doc = "compiled line scanner", .m_size = -1,
    .m_methods = module_methods,
};

PyMODINIT_FUNC PyInit__fastscan(void) {
    if (PyType_Ready(&ScannerType) < 0) return NULL;
    PyObject *m = PyModule_Create(&moduledef);
    if (!m) return NULL;
    Py_INCREF(&ScannerType);
    if (PyModule_AddObject(m, "Scanner", (PyObject *)&ScannerType) < 0) {
        Py_DECREF(&ScannerType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
