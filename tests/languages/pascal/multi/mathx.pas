unit MathX;

interface

function Gcd(a, b: Int64): Int64;
function Lcm(a, b: Int64): Int64;

implementation

function Gcd(a, b: Int64): Int64;
begin
  if b = 0 then Gcd := a else Gcd := Gcd(b, a mod b);
end;

function Lcm(a, b: Int64): Int64;
begin
  Lcm := a div Gcd(a, b) * b;
end;

end.
