//! [`IdMap`]: the engine's files and requests by id.
//!
//! A sorted list rather than a `BTreeMap`: ids only grow, so an insert is a push and a
//! lookup a binary search, and the map's generic code is a few hundred bytes of wasm
//! where the two `BTreeMap`s came to about 20 KB (twiggy, wasm-release) of a package
//! with a 30 KB gzip budget. Values are boxed so removing one moves pointers, not
//! whole uploads.

/// Values by increasing id.
#[derive(Debug)]
pub(super) struct IdMap<K, V> {
    entries: Vec<(K, Box<V>)>,
}

impl<K: Ord + Copy, V> IdMap<K, V> {
    pub(super) const fn new() -> Self {
        IdMap {
            entries: Vec::new(),
        }
    }

    fn find(&self, k: &K) -> Result<usize, usize> {
        self.entries.binary_search_by(|(x, _)| x.cmp(k))
    }

    pub(super) fn len(&self) -> usize {
        self.entries.len()
    }

    pub(super) fn get(&self, k: &K) -> Option<&V> {
        let i = self.find(k).ok()?;
        Some(&self.entries[i].1)
    }

    pub(super) fn get_mut(&mut self, k: &K) -> Option<&mut V> {
        let i = self.find(k).ok()?;
        Some(&mut self.entries[i].1)
    }

    /// Inserts or replaces the value of `k` (new ids are the largest: a push).
    pub(super) fn insert(&mut self, k: K, v: V) {
        match self.find(&k) {
            Ok(i) => *self.entries[i].1 = v,
            Err(i) => self.entries.insert(i, (k, Box::new(v))),
        }
    }

    pub(super) fn remove(&mut self, k: &K) -> Option<V> {
        let i = self.find(k).ok()?;
        Some(*self.entries.remove(i).1)
    }

    /// The ids, in increasing order.
    pub(super) fn keys(&self) -> impl Iterator<Item = &K> {
        self.entries.iter().map(|(k, _)| k)
    }

    /// `(id, value)` pairs, in increasing id order.
    pub(super) fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.entries.iter().map(|(k, v)| (k, &**v))
    }

    pub(super) fn values(&self) -> impl Iterator<Item = &V> {
        self.entries.iter().map(|(_, v)| &**v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn behaves_as_a_map() {
        let mut m = IdMap::new();
        for k in [1u64, 2, 5, 9] {
            m.insert(k, k * 10);
        }
        m.insert(3, 30);
        m.insert(5, 55);
        assert_eq!(m.keys().copied().collect::<Vec<_>>(), [1, 2, 3, 5, 9]);
        assert_eq!(m.get(&5), Some(&55));
        assert_eq!(m.remove(&2), Some(20));
        assert_eq!(m.remove(&2), None);
        if let Some(v) = m.get_mut(&9) {
            *v += 1;
        }
        assert_eq!(m.values().copied().collect::<Vec<_>>(), [10, 30, 55, 91]);
        assert_eq!((m.len(), m.get(&4)), (4, None));
    }
}
