const tokens = require("fs").readFileSync(0, "utf8").split(/\s+/).filter(Boolean).map(Number);
const values = tokens.slice(1, 1 + tokens[0]);
console.log("sum " + values.reduce((a, b) => a + b, 0));
console.log("max " + Math.max(...values));
