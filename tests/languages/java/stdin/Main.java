import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.util.StringTokenizer;

public class Main {
    public static void main(String[] args) throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
        StringBuilder text = new StringBuilder();
        for (String line; (line = in.readLine()) != null;) text.append(line).append(' ');
        StringTokenizer tok = new StringTokenizer(text.toString());
        int n = Integer.parseInt(tok.nextToken());
        long sum = 0, max = Long.MIN_VALUE;
        for (int i = 0; i < n; i++) {
            long x = Long.parseLong(tok.nextToken());
            sum += x;
            max = Math.max(max, x);
        }
        System.out.println("sum " + sum);
        System.out.println("max " + max);
    }
}
