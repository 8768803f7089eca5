// A persistent worker-thread pool. T-1 pthreads are created once; the caller is thread 0. A job is a
// number of tasks; the caller and the workers claim tasks one at a time from a shared counter, so a
// worker the OS has not scheduled (the machine is shared) just misses the job instead of holding it
// up. Idle workers spin for a short while (the many small products of one forward pass then cost no
// wake-ups), then sleep on a condition variable.
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

// The claim word packs the job's generation (24 bits), its task count (20 bits) and the next unclaimed
// task (20 bits), so one compare-and-swap both checks that the job is still current and claims a task.
#define CK_TASK_BITS 20
#define CK_TASK_MASK ((1ull << CK_TASK_BITS) - 1)
#define CK_GEN_MASK ((1ull << 24) - 1)

static inline uint64_t ck_pack(uint64_t gen, uint64_t total, uint64_t next) {
    return (gen & CK_GEN_MASK) << (2 * CK_TASK_BITS) | total << CK_TASK_BITS | next;
}
static inline unsigned ck_gen(uint64_t word) { return (unsigned)(word >> (2 * CK_TASK_BITS)); }
static inline unsigned ck_total(uint64_t word) { return (unsigned)((word >> CK_TASK_BITS) & CK_TASK_MASK); }
static inline unsigned ck_next(uint64_t word) { return (unsigned)(word & CK_TASK_MASK); }

struct ck_pool {
    int threads;
    long long spin_ns;
    pthread_t *workers;
    int started;                 // workers successfully created
    pthread_mutex_t run_lock;    // one job at a time
    pthread_mutex_t sleep_lock;  // guards the condition variable only
    pthread_cond_t wake;
    _Atomic uint64_t claim;      // generation | task count | next task
    atomic_int sleepers;         // workers inside (or about to enter) pthread_cond_wait
    atomic_int done;             // tasks of the current job finished
    atomic_int stop;
    ck_pool_fn fn;               // the current job; written before `claim` is published
    void *context;
    int base;                    // task index of the current round's task 0
};

typedef struct {
    ck_pool *pool;
    int index;
} ck_worker_arg;

/// Set while this thread runs a pool task: a nested ck_pool_run then runs inline instead of waiting for
/// the pool it is already part of (which would deadlock).
static _Thread_local int ck_in_task;

static long long ck_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/// Claims and runs tasks of generation `gen` until none are left (or a newer job replaced it).
static void ck_run_tasks(ck_pool *p, unsigned gen, int thread) {
    uint64_t word = atomic_load_explicit(&p->claim, memory_order_acquire);
    for (;;) {
        if (ck_gen(word) != gen || ck_next(word) >= ck_total(word)) return;
        if (atomic_compare_exchange_weak_explicit(&p->claim, &word, word + 1, memory_order_acq_rel,
                                                  memory_order_acquire)) {
            // The job cannot finish before this task does, so fn and context are still its own.
            ck_in_task = 1;
            p->fn(p->context, p->base + (int)ck_next(word), thread);
            ck_in_task = 0;
            atomic_fetch_add_explicit(&p->done, 1, memory_order_release);
            word = atomic_load_explicit(&p->claim, memory_order_acquire);
        }
    }
}

/// Returns the generation of the first job published after generation `seen` (any value once stopping).
static unsigned ck_wait_for_job(ck_pool *p, unsigned seen) {
    long long start = ck_now_ns();
    for (unsigned spins = 1;; spins++) {
        unsigned g = ck_gen(atomic_load_explicit(&p->claim, memory_order_acquire));
        if (g != seen || atomic_load_explicit(&p->stop, memory_order_relaxed)) return g;
        CK_PAUSE();
        if ((spins & 63) == 0) {
            if (ck_now_ns() - start > p->spin_ns) break;
            sched_yield();  // on a busy machine, hand the core to whoever (maybe our caller) needs it
        }
    }
    pthread_mutex_lock(&p->sleep_lock);
    atomic_fetch_add(&p->sleepers, 1);  // seq_cst: pairs with the publisher's store-then-check
    unsigned g;
    while ((g = ck_gen(atomic_load(&p->claim))) == seen && !atomic_load(&p->stop)) {
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
        ck_run_tasks(p, seen, index);
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

/// Wakes sleeping workers after `claim` changed.
static void ck_wake_sleepers(ck_pool *p) {
    if (atomic_load(&p->sleepers) > 0) {  // seq_cst: pairs with the sleeper's count-then-check
        pthread_mutex_lock(&p->sleep_lock);
        pthread_cond_broadcast(&p->wake);
        pthread_mutex_unlock(&p->sleep_lock);
    }
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
    atomic_init(&p->claim, 0);
    atomic_init(&p->sleepers, 0);
    atomic_init(&p->done, 0);
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
    atomic_store(&pool->stop, 1);
    // A new generation with no tasks: spinning workers see it, sleeping ones are woken.
    uint64_t word = atomic_load(&pool->claim);
    atomic_store(&pool->claim, ck_pack(ck_gen(word) + 1u, 0, 0));
    ck_wake_sleepers(pool);
    for (int i = 0; i < pool->started; i++) pthread_join(pool->workers[i], NULL);
    free(pool->workers);
    pthread_cond_destroy(&pool->wake);
    pthread_mutex_destroy(&pool->sleep_lock);
    pthread_mutex_destroy(&pool->run_lock);
    free(pool);
}

int ck_pool_thread_count(const ck_pool *pool) { return pool ? pool->threads : 1; }

void ck_pool_run(ck_pool *pool, int task_count, ck_pool_fn fn, void *context) {
    if (task_count <= 0) return;
    if (!pool || pool->threads <= 1 || task_count == 1 || ck_in_task) {
        for (int t = 0; t < task_count; t++) fn(context, t, 0);
        return;
    }
    pthread_mutex_lock(&pool->run_lock);
    pool->fn = fn;
    pool->context = context;
    // The claim word counts at most CK_TASK_MASK tasks: larger jobs run in rounds.
    for (int base = 0; base < task_count; base += (int)CK_TASK_MASK) {
        int count = task_count - base < (int)CK_TASK_MASK ? task_count - base : (int)CK_TASK_MASK;
        pool->base = base;
        atomic_store_explicit(&pool->done, 0, memory_order_relaxed);
        uint64_t word = atomic_load_explicit(&pool->claim, memory_order_relaxed);
        unsigned gen = (ck_gen(word) + 1u) & (unsigned)CK_GEN_MASK;
        atomic_store(&pool->claim, ck_pack(gen, (uint64_t)count, 0));  // seq_cst publish
        ck_wake_sleepers(pool);
        ck_run_tasks(pool, gen, 0);
        for (unsigned spins = 1; atomic_load_explicit(&pool->done, memory_order_acquire) != count; spins++) {
            CK_PAUSE();
            if ((spins & 1023) == 0) sched_yield();  // a worker may have been preempted mid-task
        }
    }
    pthread_mutex_unlock(&pool->run_lock);
}

void ck_run_column_range(ck_columns_fn fn, const void *args, int N, int n_begin, int n_end, ck_path path) {
    if (n_begin < 0) n_begin = 0;
    if (n_end > N) n_end = N;
    if (n_begin < n_end) fn(args, n_begin, n_end, path);
}

typedef struct {
    ck_columns_fn fn;
    const void *args;
    ck_path path;
    int N;
    int columns_per_task;
} ck_columns_job;

static void ck_columns_job_run(void *context, int task, int thread) {
    (void)thread;
    const ck_columns_job *job = (const ck_columns_job *)context;
    int begin = task * job->columns_per_task;
    int end = begin + job->columns_per_task < job->N ? begin + job->columns_per_task : job->N;
    if (begin < end) job->fn(job->args, begin, end, job->path);
}

void ck_split_columns(ck_columns_fn fn, const void *args, int N, int granule, ck_path path, ck_pool *pool,
                      int worth_splitting) {
    int threads = ck_pool_thread_count(pool);
    ck_columns_job job = {fn, args, path, N, ck_task_columns(N, granule, threads)};
    int tasks = (N + job.columns_per_task - 1) / job.columns_per_task;
    if (threads <= 1 || tasks <= 1 || !worth_splitting) {
        fn(args, 0, N, path);
        return;
    }
    ck_pool_run(pool, tasks, ck_columns_job_run, &job);
}
