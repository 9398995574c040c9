<?php
declare(strict_types=1);

// The release names itself, so that a probe can tell which release answers
// (probe.json at the bundle's root expects this line).
const SHOP_RELEASE = '2026.12.03-1';

/** A setting from app/.env, a shared file (deploy_shared_paths): the same in every release. */
function shop_setting(string $name, string $default): string
{
    $file = __DIR__ . '/../.env';
    if (is_readable($file)) {
        foreach (file($file, FILE_IGNORE_NEW_LINES | FILE_SKIP_EMPTY_LINES) as $line) {
            [$key, $value] = array_pad(explode('=', $line, 2), 2, '');
            if (trim($key) === $name) {
                return trim($value);
            }
        }
    }
    return $default;
}

/** Writes into app/var/cache, a writable path of the release (deploy_writable_paths). */
function shop_count_view(): int
{
    $file = __DIR__ . '/../var/cache/views.txt';
    $views = is_readable($file) ? (int) file_get_contents($file) + 1 : 1;
    @file_put_contents($file, (string) $views, LOCK_EX);
    return $views;
}
