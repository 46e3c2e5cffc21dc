/* mini_blas.c - a small CBLAS sgemm / sgemv for the arm64 test build (mk/arm64.mk), so that
 * cross-compiling needs no arm64 libraries. Row-major only (all the engine uses); transposed
 * operands are copied into row-major form first, and the product runs in 4 x 16 blocks of C
 * accumulated over the whole K. Under qemu the time goes to emulated floating point whatever
 * the loop order (about 0.25 GFLOP/s), so this is kept simple rather than fast. */
#include "cblas.h"

#include <stdlib.h>
#include <string.h>

void openblas_set_num_threads(int n) { (void)n; }

enum { MR = 4, NR = 16 };

/* op(X) as a row-major R x C matrix: X itself, or a transposed copy in *tmp. */
static const float *rows_of(const float *X, int ld, int trans, int R, int C, float **tmp, int *ldo)
{
    if (!trans) {
        *ldo = ld;
        return X;
    }
    float *t = malloc((size_t)R * C * sizeof *t);
    if (!t) abort();
    for (int r = 0; r < R; r++)
        for (int c = 0; c < C; c++) t[(size_t)r * C + c] = X[(size_t)c * ld + r];
    *tmp = t;
    *ldo = C;
    return t;
}

void cblas_sgemm(enum CBLAS_ORDER order, enum CBLAS_TRANSPOSE ta, enum CBLAS_TRANSPOSE tb, int M,
                 int N, int K, float alpha, const float *A, int lda, const float *B, int ldb,
                 float beta, float *C, int ldc)
{
    if (order != CblasRowMajor) abort();
    float *ta_buf = NULL, *tb_buf = NULL;
    A = rows_of(A, lda, ta != CblasNoTrans, M, K, &ta_buf, &lda);
    B = rows_of(B, ldb, tb != CblasNoTrans, K, N, &tb_buf, &ldb);
    for (int i = 0; i < M; i++) {
        float *c = C + (size_t)i * ldc;
        if (beta == 0.0f)
            memset(c, 0, (size_t)N * sizeof *c);
        else if (beta != 1.0f)
            for (int j = 0; j < N; j++) c[j] *= beta;
    }
    for (int i0 = 0; i0 < M; i0 += MR)
        for (int j0 = 0; j0 < N; j0 += NR) {
            if (i0 + MR <= M && j0 + NR <= N) {
                float acc[MR][NR] = {{0}};
                for (int k = 0; k < K; k++) {
                    const float *b = B + (size_t)k * ldb + j0;
                    for (int r = 0; r < MR; r++) {
                        float a = A[(size_t)(i0 + r) * lda + k];
                        for (int q = 0; q < NR; q++) acc[r][q] += a * b[q];
                    }
                }
                for (int r = 0; r < MR; r++)
                    for (int q = 0; q < NR; q++) C[(size_t)(i0 + r) * ldc + j0 + q] += alpha * acc[r][q];
            } else { /* the edges */
                for (int i = i0; i < M && i < i0 + MR; i++)
                    for (int j = j0; j < N && j < j0 + NR; j++) {
                        float s = 0.0f;
                        for (int k = 0; k < K; k++) s += A[(size_t)i * lda + k] * B[(size_t)k * ldb + j];
                        C[(size_t)i * ldc + j] += alpha * s;
                    }
            }
        }
    free(ta_buf);
    free(tb_buf);
}

/* y = alpha * op(A) x + beta * y, A [M][N] */
void cblas_sgemv(enum CBLAS_ORDER order, enum CBLAS_TRANSPOSE ta, int M, int N, float alpha,
                 const float *A, int lda, const float *x, int incx, float beta, float *y, int incy)
{
    if (order != CblasRowMajor) abort();
    int rows = ta == CblasNoTrans ? M : N, cols = ta == CblasNoTrans ? N : M;
    for (int i = 0; i < rows; i++) {
        float s = 0.0f;
        for (int k = 0; k < cols; k++)
            s += (ta == CblasNoTrans ? A[(size_t)i * lda + k] : A[(size_t)k * lda + i]) *
                 x[(size_t)k * incx];
        float *yi = y + (size_t)i * incy;
        *yi = alpha * s + (beta == 0.0f ? 0.0f : beta * *yi);
    }
}
