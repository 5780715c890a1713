package main

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// verifyRate measures raw RSA-2048 PKCS#1 v1.5 SHA-256 verifications per
// second on all cores for d: the cost floor of accepting a signed activity.
func verifyRate(d time.Duration) (float64, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return 0, err
	}
	sum := sha256.Sum256([]byte("(request-target): post /inbox\nhost: localhost\ndate: now\ndigest: x"))
	sig, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, sum[:])
	if err != nil {
		return 0, err
	}
	var n atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	stop := start.Add(d)
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(stop) {
				if rsa.VerifyPKCS1v15(&key.PublicKey, crypto.SHA256, sum[:], sig) == nil {
					n.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	return float64(n.Load()) / time.Since(start).Seconds(), nil
}

// The baseline is sampled verifySampleCount times before the load and as
// many after, verifySampleTime each: on a shared machine one sample can
// land in a lull or a burst of other work, and the spread shows which.
const (
	verifySampleCount = 5
	verifySampleTime  = 500 * time.Millisecond
)

// verifySamples measures verifyRate n times, d each.
func verifySamples(n int, d time.Duration) ([]float64, error) {
	out := make([]float64, n)
	for i := range out {
		r, err := verifyRate(d)
		if err != nil {
			return nil, err
		}
		out[i] = r
	}
	return out, nil
}
