// A persistent worker-thread pool: T-1 pthreads created once; the caller is worker 0. A job is
// published by bumping a generation counter; idle workers spin on it for a short while (so the many
// small products of one forward pass cost no wake-ups), then sleep on a condition variable.
#if defined(__linux__) && !defined(_GNU_SOURCE)
#define _GNU_SOURCE
#endif
#include "ck_internal.h"
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define CK_PAUSE() _mm_pause()
#else
#define CK_PAUSE() ((void)0)
#endif

struct ck_pool {
    int threads;
    long long spin_ns;
    pthread_t *workers;
    int started;                 // workers successfully created
    pthread_mutex_t run_lock;    // one job at a time
    pthread_mutex_t sleep_lock;  // guards the condition variable only
    pthread_cond_t wake;
    atomic_uint generation;      // bumped once per job (and once at stop)
    atomic_int sleepers;         // workers inside (or about to enter) pthread_cond_wait
    atomic_int pending;          // workers that have not finished the current job
    atomic_int stop;
    ck_pool_fn fn;               // the current job; written before `generation` is bumped
    void *context;
};

typedef struct {
    ck_pool *pool;
    int index;
} ck_worker_arg;

static long long ck_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/// Returns the first generation different from `seen` (or any value once `stop` is set).
static unsigned ck_wait_for_job(ck_pool *p, unsigned seen) {
    long long start = ck_now_ns();
    for (unsigned spins = 1;; spins++) {
        unsigned g = atomic_load_explicit(&p->generation, memory_order_acquire);
        if (g != seen || atomic_load_explicit(&p->stop, memory_order_relaxed)) return g;
        CK_PAUSE();
        if ((spins & 31) == 0 && ck_now_ns() - start > p->spin_ns) break;
    }
    pthread_mutex_lock(&p->sleep_lock);
    atomic_fetch_add(&p->sleepers, 1);  // seq_cst: pairs with the publisher's bump-then-check
    unsigned g;
    while ((g = atomic_load(&p->generation)) == seen && !atomic_load(&p->stop)) {
        pthread_cond_wait(&p->wake, &p->sleep_lock);
    }
    atomic_fetch_sub(&p->sleepers, 1);
    pthread_mutex_unlock(&p->sleep_lock);
    return g;
}

static void *ck_worker_main(void *raw) {
    ck_worker_arg *arg = (ck_worker_arg *)raw;
    ck_pool *p = arg->pool;
    int index = arg->index;
    free(arg);
    unsigned seen = 0;
    for (;;) {
        seen = ck_wait_for_job(p, seen);
        if (atomic_load_explicit(&p->stop, memory_order_acquire)) break;
        p->fn(p->context, index, p->threads);
        atomic_fetch_sub_explicit(&p->pending, 1, memory_order_release);
    }
    return NULL;
}

int ck_cpu_count(void) {
#if defined(__linux__)
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        int count = CPU_COUNT(&set);
        if (count > 0) return count;
    }
#endif
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    return online > 0 ? (int)online : 1;
}

/// Publishes a job (or the stop signal) to the workers.
static void ck_publish(ck_pool *p) {
    atomic_fetch_add(&p->generation, 1);  // seq_cst: pairs with the sleeper's count-then-check
    if (atomic_load(&p->sleepers) > 0) {
        pthread_mutex_lock(&p->sleep_lock);
        pthread_cond_broadcast(&p->wake);
        pthread_mutex_unlock(&p->sleep_lock);
    }
}

static void ck_pool_stop(ck_pool *p) {
    atomic_store(&p->stop, 1);
    ck_publish(p);
    for (int i = 0; i < p->started; i++) pthread_join(p->workers[i], NULL);
}

ck_pool *ck_pool_create(int thread_count, int spin_microseconds) {
    if (thread_count <= 0) thread_count = ck_cpu_count();
    if (thread_count > 1024) thread_count = 1024;
    ck_pool *p = (ck_pool *)calloc(1, sizeof *p);
    if (!p) return NULL;
    p->threads = thread_count;
    p->spin_ns = (long long)(spin_microseconds < 0 ? 100 : spin_microseconds) * 1000LL;
    pthread_mutex_init(&p->run_lock, NULL);
    pthread_mutex_init(&p->sleep_lock, NULL);
    pthread_cond_init(&p->wake, NULL);
    atomic_init(&p->generation, 0);
    atomic_init(&p->sleepers, 0);
    atomic_init(&p->pending, 0);
    atomic_init(&p->stop, 0);
    if (thread_count > 1) {
        p->workers = (pthread_t *)calloc((size_t)thread_count - 1, sizeof(pthread_t));
        if (!p->workers) {
            ck_pool_destroy(p);
            return NULL;
        }
        for (int i = 1; i < thread_count; i++) {
            ck_worker_arg *arg = (ck_worker_arg *)malloc(sizeof *arg);
            if (!arg) {
                ck_pool_destroy(p);
                return NULL;
            }
            arg->pool = p;
            arg->index = i;
            if (pthread_create(&p->workers[i - 1], NULL, ck_worker_main, arg) != 0) {
                free(arg);
                ck_pool_destroy(p);
                return NULL;
            }
            p->started++;
        }
    }
    return p;
}

void ck_pool_destroy(ck_pool *pool) {
    if (!pool) return;
    ck_pool_stop(pool);
    free(pool->workers);
    pthread_cond_destroy(&pool->wake);
    pthread_mutex_destroy(&pool->sleep_lock);
    pthread_mutex_destroy(&pool->run_lock);
    free(pool);
}

int ck_pool_thread_count(const ck_pool *pool) { return pool ? pool->threads : 1; }

void ck_pool_run(ck_pool *pool, ck_pool_fn fn, void *context) {
    if (!pool || pool->threads <= 1) {
        fn(context, 0, 1);
        return;
    }
    pthread_mutex_lock(&pool->run_lock);
    pool->fn = fn;
    pool->context = context;
    atomic_store_explicit(&pool->pending, pool->threads - 1, memory_order_relaxed);
    ck_publish(pool);
    fn(context, 0, pool->threads);
    for (unsigned spins = 1; atomic_load_explicit(&pool->pending, memory_order_acquire) != 0; spins++) {
        CK_PAUSE();
        if ((spins & 1023) == 0) sched_yield();  // a worker may have been preempted on a busy machine
    }
    pthread_mutex_unlock(&pool->run_lock);
}
