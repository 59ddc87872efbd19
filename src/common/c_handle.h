// RAII for C library handles: CHandle<T, destroy> is a unique_ptr whose deleter calls
// `destroy`. Deleters only free; blocking shutdown (flush, close) belongs in close().
#pragma once

#include <memory>

namespace qsplit {

template <auto Destroy>
struct CDeleter {
  template <class T>
  void operator()(T* handle) const noexcept {
    if (handle) Destroy(handle);
  }
};

template <class T, auto Destroy>
using CHandle = std::unique_ptr<T, CDeleter<Destroy>>;

}  // namespace qsplit
