import java.util.*;
import java.util.concurrent.*;

public class Main {
    public static void main(String[] args) throws Exception {
        final long n = 2000000, t = 4;
        ExecutorService pool = Executors.newFixedThreadPool((int) t);
        List<Future<Long>> parts = new ArrayList<>();
        for (long k = 0; k < t; k++) {
            final long from = k * (n / t) + 1, to = (k + 1) * (n / t);
            parts.add(pool.submit(() -> {
                long s = 0;
                for (long i = from; i <= to; i++) s += i % 1000;
                return s;
            }));
        }
        long sum = 0;
        for (Future<Long> f : parts) sum += f.get();
        pool.shutdown();
        Map<Integer, Integer> count = new HashMap<>();
        for (long i = 0; i < 100000; i++) count.merge((int) (i * 7919 % 1000), 1, Integer::sum);
        TreeMap<Integer, Integer> sorted = new TreeMap<>(count);
        System.out.println("sum " + sum);
        System.out.println("keys " + sorted.size());
        System.out.println("zero " + sorted.get(0));
    }
}
