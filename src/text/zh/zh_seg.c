/* zh_seg.c - word segmentation as jieba 0.42's lcut(text) does it (HMM on).
 *
 * A run of Han characters is read as a DAG of its dictionary words; the route of highest
 * probability (sum of log frequencies, ties to the longer word) gives the words. Runs of
 * single characters that the route leaves are words of their own when the run is itself a
 * dictionary word, and are otherwise cut by the HMM of jieba.finalseg (states B M E S,
 * Viterbi). Characters outside jieba's Han range (U+9FD6 and above) are words of one. */
#include "text/zh/zh.h"

#include <math.h>
#include <stdlib.h>

enum { B, M, E, S };
static const char LETTER[4] = {'B', 'M', 'E', 'S'};

static int jieba_han(uint32_t c)
{
    return c >= 0x4E00 && c <= 0x9FD5;
}

/* Python's max over (prob, state) tuples: the higher probability, then the later letter. */
static int better(double p, int s, double best, int best_s)
{
    return p > best || (p == best && LETTER[s] > LETTER[best_s]);
}

/* jieba.finalseg.__cut: the HMM's words over s[0..n) (Han only). */
static int hmm_cut(const kk_zh_dict *d, const uint32_t *s, int n, kk_zu *lens)
{
    static const int prev[4][2] = {{E, S}, {M, B}, {B, M}, {S, E}}; /* PrevStatus of B M E S */
    double *v = malloc((size_t)n * 4 * sizeof *v);
    unsigned char *from = malloc((size_t)n * 4);
    int rc = v && from ? 0 : -1;
    for (int y = 0; y < 4 && rc == 0; y++)
        v[y] = kk_zh_hmm_start(d, y) + kk_zh_hmm_emit(d, y, s[0]);
    for (int t = 1; t < n && rc == 0; t++) {
        for (int y = 0; y < 4; y++) {
            double em = kk_zh_hmm_emit(d, y, s[t]);
            int best_s = prev[y][0];
            double best = v[(t - 1) * 4 + best_s] + kk_zh_hmm_trans(d, best_s, y) + em;
            int y0 = prev[y][1];
            double p = v[(t - 1) * 4 + y0] + kk_zh_hmm_trans(d, y0, y) + em;
            if (better(p, y0, best, best_s)) {
                best = p;
                best_s = y0;
            }
            v[t * 4 + y] = best;
            from[t * 4 + y] = (unsigned char)best_s;
        }
    }
    unsigned char *path = rc == 0 ? malloc((size_t)n) : NULL;
    if (rc == 0 && !path)
        rc = -1;
    if (rc == 0) {
        int last = better(v[(n - 1) * 4 + S], S, v[(n - 1) * 4 + E], E) ? S : E;
        for (int t = n - 1; t >= 0; t--) {
            path[t] = (unsigned char)last;
            if (t > 0)
                last = from[t * 4 + last];
        }
    }
    int begin = 0, next = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        int pos = path[i];
        if (pos == B) {
            begin = i;
        } else if (pos == E) {
            rc = kk_zu_put(lens, (uint32_t)(i + 1 - begin));
            next = i + 1;
        } else if (pos == S) {
            rc = kk_zu_put(lens, 1);
            next = i + 1;
        }
    }
    if (rc == 0 && next < n)
        rc = kk_zu_put(lens, (uint32_t)(n - next));
    free(v);
    free(from);
    free(path);
    return rc;
}

/* The characters s[0..n) that the route left one by one (jieba's buf). */
static int flush_singles(const kk_zh_dict *d, const uint32_t *s, int n, kk_zu *lens)
{
    if (n == 0)
        return 0;
    if (n == 1)
        return kk_zu_put(lens, 1);
    if (!kk_zh_freq(d, s, n))
        return hmm_cut(d, s, n, lens);
    for (int i = 0; i < n; i++)
        if (kk_zu_put(lens, 1) < 0)
            return -1;
    return 0;
}

/* jieba's __cut_DAG over a run of Han characters. */
static int dag_cut(const kk_zh_dict *d, const uint32_t *s, int n, kk_zu *lens)
{
    double *prob = malloc(((size_t)n + 1) * sizeof *prob);
    int *to = malloc(((size_t)n + 1) * sizeof *to);
    if (!prob || !to) {
        free(prob);
        free(to);
        return -1;
    }
    double logtotal = log(kk_zh_freq_total(d));
    int max_word = kk_zh_max_word(d);
    prob[n] = 0;
    to[n] = 0;
    for (int idx = n - 1; idx >= 0; idx--) {
        int found = 0;
        double best = 0;
        int best_x = idx;
        for (int x = idx; x < n && x - idx < max_word; x++) {
            long long f = kk_zh_freq(d, s + idx, x - idx + 1);
            if (!f)
                continue;
            double p = log((double)f) - logtotal + prob[x + 1];
            if (!found || p > best || (p == best && x > best_x)) {
                best = p;
                best_x = x;
            }
            found = 1;
        }
        if (!found) { /* DAG[idx] = [idx], frequency taken as 1 */
            best = log(1.0) - logtotal + prob[idx + 1];
            best_x = idx;
        }
        prob[idx] = best;
        to[idx] = best_x;
    }
    int rc = 0, buf = -1; /* start of the pending single characters */
    for (int x = 0; x < n && rc == 0;) {
        int y = to[x] + 1;
        if (y - x == 1) {
            if (buf < 0)
                buf = x;
        } else {
            if (buf >= 0)
                rc = flush_singles(d, s + buf, x - buf, lens);
            buf = -1;
            if (rc == 0)
                rc = kk_zu_put(lens, (uint32_t)(y - x));
        }
        x = y;
    }
    if (rc == 0 && buf >= 0)
        rc = flush_singles(d, s + buf, n - buf, lens);
    free(prob);
    free(to);
    return rc;
}

int kk_zh_cut(const kk_zh_dict *d, const uint32_t *s, int n, kk_zu *lens)
{
    for (int i = 0; i < n;) {
        if (!jieba_han(s[i])) {
            if (kk_zu_put(lens, 1) < 0)
                return -1;
            i++;
            continue;
        }
        int j = i;
        while (j < n && jieba_han(s[j]))
            j++;
        if (dag_cut(d, s + i, j - i, lens) < 0)
            return -1;
        i = j;
    }
    return 0;
}
