program Multi;
uses MathX;
begin
  WriteLn('gcd 12 18 = ', Gcd(12, 18));
  WriteLn('lcm 4 6 = ', Lcm(4, 6));
end.
