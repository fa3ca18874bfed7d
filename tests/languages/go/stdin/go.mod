module stdin

go 1.19
