using System;
using System.Linq;
class Program {
    static void Main() {
        var tok = Console.In.ReadToEnd().Split((char[])null, StringSplitOptions.RemoveEmptyEntries);
        int n = int.Parse(tok[0]);
        var v = tok.Skip(1).Take(n).Select(long.Parse).ToList();
        Console.WriteLine("sum " + v.Sum());
        Console.WriteLine("max " + v.Max());
    }
}
