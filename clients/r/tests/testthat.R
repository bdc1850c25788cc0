library(testthat)
library(almanacr)

test_check("almanacr")
