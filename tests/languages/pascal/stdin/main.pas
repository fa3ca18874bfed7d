program Stdin;
var
  n, i: Integer;
  x, sum, max: Int64;
begin
  Read(n);
  sum := 0;
  max := 0;
  for i := 1 to n do
  begin
    Read(x);
    sum := sum + x;
    if (i = 1) or (x > max) then max := x;
  end;
  WriteLn('sum ', sum);
  WriteLn('max ', max);
end.
