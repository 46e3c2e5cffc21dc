/* cblas.h - the part of the CBLAS interface the engine calls (sgemm, sgemv, and OpenBLAS's
 * thread setting), for the arm64 test build, which links mini_blas.c instead of OpenBLAS so
 * that cross-compiling needs no arm64 libraries (mk/arm64.mk). */
#ifndef KK_TEST_MINI_CBLAS_H
#define KK_TEST_MINI_CBLAS_H

enum CBLAS_ORDER { CblasRowMajor = 101, CblasColMajor = 102 };
enum CBLAS_TRANSPOSE { CblasNoTrans = 111, CblasTrans = 112, CblasConjTrans = 113 };

void cblas_sgemm(enum CBLAS_ORDER order, enum CBLAS_TRANSPOSE ta, enum CBLAS_TRANSPOSE tb, int M,
                 int N, int K, float alpha, const float *A, int lda, const float *B, int ldb,
                 float beta, float *C, int ldc);
void cblas_sgemv(enum CBLAS_ORDER order, enum CBLAS_TRANSPOSE ta, int M, int N, float alpha,
                 const float *A, int lda, const float *x, int incx, float beta, float *y,
                 int incy);
void openblas_set_num_threads(int n);

#endif
