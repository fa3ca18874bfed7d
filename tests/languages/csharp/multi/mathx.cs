namespace MathX {
    public static class Numbers {
        public static long Gcd(long a, long b) { return b == 0 ? a : Gcd(b, a % b); }
        public static long Lcm(long a, long b) { return a / Gcd(a, b) * b; }
    }
}
