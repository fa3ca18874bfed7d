const { gcd, lcm } = require("./mathx");
console.log("gcd 12 18 = " + gcd(12, 18));
console.log("lcm 4 6 = " + lcm(4, 6));
