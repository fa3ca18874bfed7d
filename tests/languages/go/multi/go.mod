module multi

go 1.19
