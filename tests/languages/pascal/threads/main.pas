program Threads;
{$mode objfpc}
uses cthreads, Classes, Generics.Collections;

const
  N = 2000000;
  T = 4;

type
  TWorker = class(TThread)
    Index: Int64;
    Sum: Int64;
    procedure Execute; override;
  end;

procedure TWorker.Execute;
var
  i: Int64;
begin
  Sum := 0;
  for i := Index * (N div T) + 1 to (Index + 1) * (N div T) do
    Sum := Sum + i mod 1000;
end;

var
  workers: array[0..T - 1] of TWorker;
  count: specialize TDictionary<Integer, Integer>;
  k, i, total: Int64;
  key, c: Integer;
begin
  for k := 0 to T - 1 do
  begin
    workers[k] := TWorker.Create(True);
    workers[k].Index := k;
    workers[k].Start;
  end;
  total := 0;
  for k := 0 to T - 1 do
  begin
    workers[k].WaitFor;
    total := total + workers[k].Sum;
    workers[k].Free;
  end;
  count := specialize TDictionary<Integer, Integer>.Create;
  for i := 0 to 99999 do
  begin
    key := Integer(i * 7919 mod 1000);
    if count.TryGetValue(key, c) then count[key] := c + 1 else count.Add(key, 1);
  end;
  WriteLn('sum ', total);
  WriteLn('keys ', count.Count);
  WriteLn('zero ', count[0]);
  count.Free;
end.
