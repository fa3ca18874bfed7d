import mathx.MathX;

public class Main {
    public static void main(String[] args) {
        System.out.println("gcd 12 18 = " + MathX.gcd(12, 18));
        System.out.println("lcm 4 6 = " + MathX.lcm(4, 6));
    }
}
