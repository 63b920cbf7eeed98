module tanto.dev/go-codegen

go 1.22
