package dev.cella.node.sandbox;

import dev.cella.node.problem.Problem;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Admission of starts: bounded concurrency, a bounded wait, demand before background work. Needs no root. */
@Tag("unit")
class StartQueueTest {
    @Test
    void noMoreThanItsConcurrencyRunAtOnceAndTheRestWaitTheirTurn() throws Exception {
        StartQueue q = new StartQueue(2, 100, Duration.ofSeconds(30));
        AtomicInteger now = new AtomicInteger(), most = new AtomicInteger();
        List<Future<Integer>> all = new ArrayList<>();
        try (var exec = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < 20; i++) {
                int n = i;
                all.add(exec.submit(() -> q.run(() -> {
                    most.accumulateAndGet(now.incrementAndGet(), Math::max);
                    Thread.sleep(10);
                    now.decrementAndGet();
                    return n;
                })));
            }
        }
        for (int i = 0; i < 20; i++) assertThat(all.get(i).get()).isEqualTo(i);
        assertThat(most.get()).isEqualTo(2);
        assertThat(q.running()).isZero();
        assertThat(q.waiting()).isZero();
    }

    @Test
    void aStartPastTheQueuesBoundsIsRefusedWithWhenToComeBack() throws Exception {
        StartQueue q = new StartQueue(1, 1, Duration.ofMillis(300));
        CountDownLatch running = new CountDownLatch(1), release = new CountDownLatch(1);
        try (var exec = Executors.newVirtualThreadPerTaskExecutor()) {
            holdTheSlot(exec, q, running, release);
            try {
                running.await();
                // the slot is taken: one more may wait, but only 300 ms
                assertThatThrownBy(() -> q.run(() -> "late")).isInstanceOfSatisfying(Problem.Busy.class,
                        b -> assertThat(b.retryAfterSeconds()).isBetween(1L, 30L));
                // one waiting already: the next is refused at once
                Future<Object> waiter = exec.submit(() -> q.run(() -> "waited"));
                while (q.waiting() == 0) Thread.sleep(1);
                assertThatThrownBy(() -> q.run(() -> "too many")).isInstanceOf(Problem.Busy.class)
                        .hasMessageContaining("waiting already");
                assertThatThrownBy(waiter::get).hasCauseInstanceOf(Problem.Busy.class);
            } finally {
                release.countDown();
            }
        }
        assertThat(q.run(() -> "free again")).isEqualTo("free again");
    }

    @Test
    void backgroundStartsRunOnlyWhenNoCreateWaitsAndASlotIsFree() throws Exception {
        StartQueue q = new StartQueue(1, 10, Duration.ofSeconds(10));
        assertThat(q.runIfIdle(() -> "pool")).isTrue();
        CountDownLatch running = new CountDownLatch(1), release = new CountDownLatch(1);
        try (var exec = Executors.newVirtualThreadPerTaskExecutor()) {
            holdTheSlot(exec, q, running, release);
            Future<Object> create;
            try {
                running.await();
                assertThat(q.runIfIdle(() -> "pool")).as("no free slot").isFalse();
                create = exec.submit(() -> q.run(() -> "create"));
                while (q.waiting() == 0) Thread.sleep(1);
            } finally {
                release.countDown();
            }
            assertThat(create.get()).isEqualTo("create");
        }
        assertThat(q.runIfIdle(() -> "pool")).isTrue();
    }

    /** Takes the queue's one slot until {@code release}; {@code running} says it has it. */
    private static void holdTheSlot(ExecutorService exec, StartQueue q, CountDownLatch running, CountDownLatch release) {
        exec.submit(() -> q.run(() -> {
            running.countDown();
            release.await();
            return null;
        }));
    }
}
