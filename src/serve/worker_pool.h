// A fixed set of threads for the requests that read the store or refit (serve-internal), with
// a bounded queue: work beyond it is refused (the server answers 503) instead of piling up.
#pragma once

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace almanac::serve {

// Runs blocking jobs on a fixed set of threads; refuses work beyond `max_queue` waiting jobs.
class WorkerPool {
 public:
  WorkerPool(int threads, int max_queue) : max_queue_(static_cast<size_t>(std::max(0, max_queue))) {
    for (int i = 0; i < std::max(1, threads); ++i) threads_.emplace_back([this] { Loop(); });
  }
  ~WorkerPool() { Stop(); }

  // Accepts a job when a worker is idle or fewer than max_queue jobs are waiting.
  bool TrySubmit(std::function<void()> job) {
    {
      std::lock_guard lock(mu_);
      const size_t idle = threads_.size() > running_ ? threads_.size() - running_ : 0;
      if (stopping_ || queue_.size() >= max_queue_ + idle) return false;
      queue_.push_back(std::move(job));
    }
    cv_.notify_one();
    return true;
  }
  size_t busy() const {
    std::lock_guard lock(mu_);
    return queue_.size() + running_;
  }
  // Finishes the queued jobs, then joins.
  void Stop() {
    {
      std::lock_guard lock(mu_);
      if (stopping_ && threads_.empty()) return;
      stopping_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_)
      if (t.joinable()) t.join();
    threads_.clear();
  }

 private:
  void Loop() {
    for (;;) {
      std::function<void()> job;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) return;
        job = std::move(queue_.front());
        queue_.pop_front();
        ++running_;
      }
      job();
      std::lock_guard lock(mu_);
      --running_;
    }
  }

  const size_t max_queue_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  size_t running_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace almanac::serve
