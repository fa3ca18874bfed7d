const { Worker, isMainThread, parentPort, workerData } = require("worker_threads");
const N = 2000000, T = 4;
if (isMainThread) {
  const parts = [];
  for (let t = 0; t < T; t++) {
    parts.push(new Promise((resolve, reject) => {
      const w = new Worker(__filename, { workerData: t });
      w.on("message", resolve);
      w.on("error", reject);
    }));
  }
  Promise.all(parts).then((sums) => {
    const count = new Map();
    for (let i = 0; i < 100000; i++) {
      const k = (i * 7919) % 1000;
      count.set(k, (count.get(k) || 0) + 1);
    }
    console.log("sum " + sums.reduce((a, b) => a + b, 0));
    console.log("keys " + count.size);
    console.log("zero " + count.get(0));
  });
} else {
  let s = 0;
  for (let i = workerData * (N / T) + 1; i <= (workerData + 1) * (N / T); i++) s += i % 1000;
  parentPort.postMessage(s);
}
