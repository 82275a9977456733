module github.com/puente-project/puente

go 1.25
