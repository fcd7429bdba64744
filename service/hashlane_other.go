//go:build !linux

package service

import "errors"

func lowerThreadPriority(int) {}

func threadPriority() (int, error) { return 0, errors.New("thread priority: Linux only") }
