//! Where the key set lives (`keys.store`): a folder (`dir`, the default: the manifest and one
//! PEM file per key, see [`super::keyfiles`]) or the database (`database`: a row per key, the
//! private part sealed under the key-encryption key, see [`super::sealed`]).
//!
//! The rotation rules ([`super::rotation`]) never see the difference: each change runs as one
//! [`Change`] on a manifest read under the store's lock (the folder lock, or a row lock in one
//! transaction), and is written whole or not at all.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context};
use chrono::Utc;
use diesel::Connection;
use openssl::pkey::{PKey, Private};

use super::keyfiles::{self, generate_key, public_jwk, read_private_key, write_private_key};
use super::keyset::KeySet;
use super::manifest::{KeyAlg, KeyState, Manifest, ManifestEntry};
use super::sealed::{Kek, KEK_ENV};
use crate::db::signing_keys::{self as rows, KeyRow};
use crate::db::{AnyConnection, Pool};

pub enum KeyStore {
    Dir(PathBuf),
    Database(DatabaseStore),
}

pub struct DatabaseStore {
    pool: Pool,
    kek: Option<Kek>,
    kek_file: Option<PathBuf>,
}

/// One change to the key set: the manifest as stored when the change began (empty when there
/// is no set yet), changed in place, and the keys made or brought in during the change.
pub struct Change {
    pub manifest: Manifest,
    added: Vec<(String, PKey<Private>)>,
}

impl Change {
    /// A new key pair of `alg`; its private part is stored with the manifest. Returns its kid.
    pub fn create_key(&mut self, alg: KeyAlg) -> anyhow::Result<String> {
        let (kid, pkey) = generate_key(alg)?;
        self.added.push((kid.clone(), pkey));
        Ok(kid)
    }

    /// Runs `f` on `before`; the change to write, or `None` when it changed nothing.
    fn run<R>(
        before: Manifest,
        f: impl FnOnce(&mut Change) -> anyhow::Result<R>,
    ) -> anyhow::Result<(R, Option<Change>)> {
        let mut change = Change {
            manifest: before.clone(),
            added: Vec::new(),
        };
        let result = f(&mut change)?;
        let unchanged = change.added.is_empty()
            && serde_json::to_vec(&before)? == serde_json::to_vec(&change.manifest)?;
        Ok((result, (!unchanged).then_some(change)))
    }

    /// An existing private key to store under its kid (`keys import-dir`).
    pub fn adopt(&mut self, kid: &str, pkey: PKey<Private>) {
        self.added.push((kid.to_string(), pkey));
    }
}

impl KeyStore {
    /// The database store. `kek` may be `None` for what needs no private key (`export-public`,
    /// the version check); everything else says the KEK is missing.
    pub fn database(pool: Pool, kek: Option<Kek>, kek_file: Option<PathBuf>) -> KeyStore {
        KeyStore::Database(DatabaseStore {
            pool,
            kek,
            kek_file,
        })
    }

    /// The key folder, when the set lives in one.
    pub fn dir(&self) -> Option<&Path> {
        match self {
            KeyStore::Dir(dir) => Some(dir),
            KeyStore::Database(_) => None,
        }
    }

    /// What the store is, for messages: the folder's path, or "the database".
    pub fn describe(&self) -> String {
        match self {
            KeyStore::Dir(dir) => format!("the key folder {}", dir.display()),
            KeyStore::Database(_) => "the database (keys.store = \"database\")".to_string(),
        }
    }

    /// Runs `f` on the current manifest under the store's lock, then writes what it changed:
    /// new private parts first, then the manifest, then the private parts of keys that left the
    /// JWKS are deleted. An error from `f` changes nothing.
    pub fn change<R>(&self, f: impl FnOnce(&mut Change) -> anyhow::Result<R>) -> anyhow::Result<R> {
        match self {
            KeyStore::Dir(dir) => change_dir(dir, f),
            KeyStore::Database(db) => db.change(f),
        }
    }

    /// The manifest, or `None` when no key set exists yet.
    pub fn manifest(&self) -> anyhow::Result<Option<Manifest>> {
        match self {
            KeyStore::Dir(dir) => {
                if dir.join(keyfiles::MANIFEST).exists() {
                    keyfiles::read_manifest(dir).map(Some)
                } else {
                    Ok(None)
                }
            }
            KeyStore::Database(db) => {
                let rows = rows::all(&mut *db.conn()?)?;
                if rows.is_empty() {
                    return Ok(None);
                }
                Ok(Some(manifest_of(&rows)?))
            }
        }
    }

    /// Loads and checks the whole set (see [`KeySet::build`]).
    pub fn load(&self, required: KeyAlg) -> anyhow::Result<KeySet> {
        match self {
            KeyStore::Dir(dir) => {
                let manifest = keyfiles::read_manifest(dir)?;
                KeySet::build(manifest, |e| read_private_key(dir, &e.kid), required)
            }
            KeyStore::Database(db) => {
                let kek = db.kek()?;
                let rows = rows::all(&mut *db.conn()?)?;
                let sealed: HashMap<&str, &KeyRow> =
                    rows.iter().map(|r| (r.kid.as_str(), r)).collect();
                KeySet::build(
                    manifest_of(&rows)?,
                    |e| {
                        let row = sealed[e.kid.as_str()];
                        let pkey = open_key(kek, row)?;
                        let stored: serde_json::Value = serde_json::from_str(&row.public_jwk)?;
                        if public_jwk(&pkey, e.alg)? != stored {
                            bail!(
                                "key {}: the stored public key does not match its private part",
                                e.kid
                            );
                        }
                        Ok(pkey)
                    },
                    required,
                )
            }
        }
    }

    /// What changes whenever the set changes: for the folder, its files' names, sizes and times;
    /// for the database, the set's version (one primary-key read).
    pub fn fingerprint(&self) -> anyhow::Result<String> {
        match self {
            KeyStore::Dir(dir) => Ok(super::fingerprint(dir)),
            KeyStore::Database(db) => Ok(rows::version(&mut *db.conn()?)?.to_string()),
        }
    }

    /// A random 32-byte secret shared by every instance using this store, made on first use.
    pub fn secret(&self, name: &str) -> anyhow::Result<Vec<u8>> {
        match self {
            KeyStore::Dir(dir) => keyfiles::load_or_create_secret(dir, name),
            KeyStore::Database(db) => {
                let kek = db.kek()?;
                let mut conn = db.conn()?;
                if rows::secret(&mut conn, name)?.is_none() {
                    let sealed = kek.seal(&crate::random::bytes(32), &secret_aad(name))?;
                    rows::insert_secret_if_absent(
                        &mut conn,
                        name,
                        &sealed,
                        Utc::now().naive_utc(),
                    )?;
                }
                let sealed = rows::secret(&mut conn, name)?
                    .ok_or_else(|| anyhow!("the stored secret {name} vanished"))?;
                open_secret(kek, name, &sealed)
            }
        }
    }

    /// The public JWKS of the published keys, without touching a private part (no KEK needed).
    pub fn public_jwks(&self, required: KeyAlg) -> anyhow::Result<super::keyset::Jwks> {
        match self {
            KeyStore::Dir(_) => Ok(self.load(required)?.jwks()),
            KeyStore::Database(db) => {
                let keys = rows::all(&mut *db.conn()?)?
                    .iter()
                    .filter(|r| parse_state(&r.state).is_ok_and(KeyState::is_published))
                    .map(|r| serde_json::from_str(&r.public_jwk))
                    .collect::<Result<Vec<serde_json::Value>, _>>()?;
                Ok(super::keyset::Jwks { keys })
            }
        }
    }

    /// `keys import-dir PATH`: the folder's whole set (kids, states and history unchanged) into
    /// an empty database store, in one transaction. Returns how many keys were imported.
    pub fn import_dir(&self, from: &Path, required: KeyAlg) -> anyhow::Result<usize> {
        if !matches!(self, KeyStore::Database(_)) {
            bail!("keys import-dir moves a key folder into the database: set keys.store = \"database\" first");
        }
        let manifest = keyfiles::read_manifest(from)?;
        // The folder's set must hold together before it is copied.
        KeySet::build(
            manifest.clone(),
            |e| read_private_key(from, &e.kid),
            required,
        )
        .with_context(|| format!("the key set in {} is not usable", from.display()))?;
        self.change(|c| {
            if !c.manifest.keys.is_empty() {
                bail!(
                    "the database already holds a key set ({} keys); import-dir only fills an empty one",
                    c.manifest.keys.len()
                );
            }
            for entry in &manifest.keys {
                if entry.state.is_published() {
                    c.adopt(&entry.kid, read_private_key(from, &entry.kid)?);
                }
            }
            c.manifest = manifest.clone();
            Ok(manifest.keys.len())
        })
    }

    /// Checks that the KEK is there and opens every sealed private key and secret (what every
    /// `keys` command but `export-public` does first against the database store).
    pub fn check_kek(&self) -> anyhow::Result<()> {
        let KeyStore::Database(db) = self else {
            return Ok(());
        };
        let kek = db.kek()?;
        let mut conn = db.conn()?;
        for row in rows::all(&mut conn)? {
            if row.sealed_private.is_some() {
                open_key(kek, &row)?;
            }
        }
        for (name, sealed) in rows::all_secrets(&mut conn)? {
            open_secret(kek, &name, &sealed)?;
        }
        Ok(())
    }

    /// `keys rekek`: every sealed value opened with the current KEK and sealed again with
    /// `new`, in one transaction. Returns how many values were sealed again.
    pub fn rekek(&self, new: &Kek) -> anyhow::Result<usize> {
        let KeyStore::Database(db) = self else {
            bail!("keys rekek re-encrypts the database key store; keys.store is \"dir\"");
        };
        let kek = db.kek()?;
        db.conn()?.transaction::<_, anyhow::Error, _>(|conn| {
            rows::lock(conn)?;
            let mut count = 0;
            for mut row in rows::all(conn)? {
                let Some(sealed) = &row.sealed_private else {
                    continue;
                };
                let plain = open_sealed_key(kek, &row.kid, &row.state, sealed)?;
                row.sealed_private = Some(new.seal(&plain, &key_aad(&row.kid, &row.state))?);
                rows::update(conn, &row)?;
                count += 1;
            }
            for (name, sealed) in rows::all_secrets(conn)? {
                let plain = open_secret(kek, &name, &sealed)?;
                rows::update_secret(conn, &name, &new.seal(&plain, &secret_aad(&name))?)?;
                count += 1;
            }
            Ok(count)
        })
    }
}

fn change_dir<R>(
    dir: &Path,
    f: impl FnOnce(&mut Change) -> anyhow::Result<R>,
) -> anyhow::Result<R> {
    let _lock = keyfiles::lock(dir)?;
    let before = if dir.join(keyfiles::MANIFEST).exists() {
        keyfiles::read_manifest(dir)?
    } else {
        Manifest::default()
    };
    let (result, change) = Change::run(before, f)?;
    let Some(change) = change else {
        return Ok(result);
    };
    for (kid, pkey) in &change.added {
        write_private_key(dir, kid, pkey)?;
    }
    keyfiles::write_manifest(dir, &change.manifest)?;
    for entry in change
        .manifest
        .keys
        .iter()
        .filter(|e| !e.state.is_published())
    {
        keyfiles::delete_private_key(dir, &entry.kid)?;
    }
    Ok(result)
}

impl DatabaseStore {
    fn conn(&self) -> anyhow::Result<r2d2::PooledConnection<crate::db::Manager>> {
        self.pool
            .get()
            .map_err(|e| anyhow!("the database key store is unreachable: {e}"))
    }

    fn kek(&self) -> anyhow::Result<&Kek> {
        self.kek.as_ref().ok_or_else(|| {
            let file = match &self.kek_file {
                Some(path) => format!(" (keys.kek_file {} is not set either)", path.display()),
                None => String::new(),
            };
            anyhow!(
                "keys.store is \"database\" but no key-encryption key was given: set {KEK_ENV} (32 random bytes, base64) or keys.kek_file{file}"
            )
        })
    }

    fn change<R>(&self, f: impl FnOnce(&mut Change) -> anyhow::Result<R>) -> anyhow::Result<R> {
        let kek = self.kek()?;
        self.conn()?.transaction::<_, anyhow::Error, _>(|conn| {
            rows::lock(conn)?;
            let stored = rows::all(conn)?;
            let (result, change) = Change::run(manifest_of(&stored)?, f)?;
            let Some(change) = change else {
                return Ok(result);
            };
            self.write(conn, kek, &stored, &change)?;
            rows::bump_version(conn)?;
            Ok(result)
        })
    }

    /// Writes the changed manifest: new keys inserted with their sealed private part; a key whose
    /// state changed is sealed again (the state is associated data), or loses its private part
    /// once it leaves the JWKS.
    fn write(
        &self,
        conn: &mut AnyConnection,
        kek: &Kek,
        stored: &[KeyRow],
        change: &Change,
    ) -> anyhow::Result<()> {
        let added: HashMap<&str, &PKey<Private>> =
            change.added.iter().map(|(k, p)| (k.as_str(), p)).collect();
        for entry in &change.manifest.keys {
            let state = entry.state.name();
            let transitions = serde_json::to_string(&entry.transitions)?;
            if let Some(pkey) = added.get(entry.kid.as_str()) {
                let der = pkey.private_key_to_der()?;
                rows::insert(
                    conn,
                    &KeyRow {
                        kid: entry.kid.clone(),
                        alg: entry.alg.name().to_string(),
                        state: state.to_string(),
                        created_at: entry.created_at.naive_utc(),
                        transitions,
                        public_jwk: public_jwk(pkey, entry.alg)?.to_string(),
                        sealed_private: entry
                            .state
                            .is_published()
                            .then(|| kek.seal(&der, &key_aad(&entry.kid, state)))
                            .transpose()?,
                    },
                )?;
                continue;
            }
            let Some(old) = stored.iter().find(|r| r.kid == entry.kid) else {
                bail!(
                    "key {} is in the manifest but neither stored nor new",
                    entry.kid
                );
            };
            if old.state == state && old.transitions == transitions {
                continue;
            }
            let sealed_private = match (&old.sealed_private, entry.state.is_published()) {
                (Some(sealed), true) if old.state != state => {
                    let plain = open_sealed_key(kek, &old.kid, &old.state, sealed)?;
                    Some(kek.seal(&plain, &key_aad(&entry.kid, state))?)
                }
                (sealed, true) => sealed.clone(),
                (_, false) => None,
            };
            rows::update(
                conn,
                &KeyRow {
                    state: state.to_string(),
                    transitions,
                    sealed_private,
                    ..old.clone()
                },
            )?;
        }
        Ok(())
    }
}

/// What a key's private part is sealed to: its kid and its state.
fn key_aad(kid: &str, state: &str) -> Vec<u8> {
    format!("key:{kid}\0{state}").into_bytes()
}

/// What a stored secret is sealed to: its name.
fn secret_aad(name: &str) -> Vec<u8> {
    format!("secret:{name}").into_bytes()
}

/// A key's private part (PKCS#8 DER), or the one line a wrong KEK (or an edited row) gets.
fn open_sealed_key(kek: &Kek, kid: &str, state: &str, sealed: &[u8]) -> anyhow::Result<Vec<u8>> {
    kek.open(sealed, &key_aad(kid, state))
        .map_err(|e| wrong_kek(&format!("key {kid}"), e))
}

fn open_secret(kek: &Kek, name: &str, sealed: &[u8]) -> anyhow::Result<Vec<u8>> {
    kek.open(sealed, &secret_aad(name))
        .map_err(|e| wrong_kek(&format!("the stored secret {name}"), e))
}

fn wrong_kek(what: &str, e: anyhow::Error) -> anyhow::Error {
    anyhow!("{what}: {e} (not the key-encryption key this key set was stored with, or the row was altered)")
}

fn parse_state(state: &str) -> anyhow::Result<KeyState> {
    serde_json::from_value(serde_json::Value::String(state.to_string()))
        .map_err(|_| anyhow!("unknown key state {state:?}"))
}

fn manifest_of(stored: &[KeyRow]) -> anyhow::Result<Manifest> {
    let keys = stored
        .iter()
        .map(|r| {
            Ok(ManifestEntry {
                kid: r.kid.clone(),
                alg: KeyAlg::parse(&r.alg)
                    .ok_or_else(|| anyhow!("key {}: unknown alg {:?}", r.kid, r.alg))?,
                state: parse_state(&r.state).with_context(|| format!("key {}", r.kid))?,
                created_at: r.created_at.and_utc(),
                transitions: serde_json::from_str(&r.transitions)
                    .with_context(|| format!("key {}: unreadable transitions", r.kid))?,
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(Manifest { keys })
}

fn open_key(kek: &Kek, row: &KeyRow) -> anyhow::Result<PKey<Private>> {
    let sealed = row
        .sealed_private
        .as_ref()
        .ok_or_else(|| anyhow!("key {}: published but its private part is missing", row.kid))?;
    let der = open_sealed_key(kek, &row.kid, &row.state, sealed)?;
    PKey::private_key_from_der(&der)
        .with_context(|| format!("key {}: not a valid private key", row.kid))
}
