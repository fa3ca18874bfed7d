using System;
using MathX;
class Program {
    static void Main() {
        Console.WriteLine("gcd 12 18 = " + Numbers.Gcd(12, 18));
        Console.WriteLine("lcm 4 6 = " + Numbers.Lcm(4, 6));
    }
}
