"""The broken-reference cases of the coverage benchmark (bench_coverage.py):
the typos the web_refs and php_refs tests inject into Debian's real
configurations and PHP applications (tests/unit/plugins/module_utils/
test_debian_configs.py, test_php_refs.py), the incident's change, and a
control per group, the configuration as shipped.

Each case runs in a fresh test container: ``setup`` (shell) prepares the
group's site, ``edit`` replaces one text in one file (or adds ``append``),
then the stock tool and our check run on the same filesystem (``php -l``
lints the changed file, or the group's ``control_file`` for the control)."""

WORDPRESS_SITE = "/etc/nginx/sites-enabled/wordpress"
DEFAULT_VHOST = "/etc/apache2/sites-enabled/000-default.conf"
DOKUWIKI_CONF = "/etc/apache2/conf-enabled/dokuwiki.conf"
FPM_POOL = "/etc/php/8.2/fpm/pool.d/www.conf"

GROUPS = {
    "nginx": {
        "what": "nginx with Debian's WordPress example site, PHP-FPM 8.2 running",
        "setup": ("cp /usr/share/doc/wordpress/examples/nginx-wordpress.conf %s && "
                  "sed -i 's#unix:/var/run/php7.0-fpm.sock#unix:/run/php/php8.2-fpm.sock#' %s && "
                  "service php8.2-fpm start >/dev/null" % (WORDPRESS_SITE, WORDPRESS_SITE)),
        "stock": ["nginx", "-t"],
        "ours": {"module": "web_refs", "server": "nginx"},
    },
    "apache": {
        "what": "Apache with Debian's default site and DokuWiki's config, PHP-FPM 8.2 running",
        "setup": "service php8.2-fpm start >/dev/null",
        "stock": ["apache2ctl", "-t"],
        "ours": {"module": "web_refs", "server": "apache"},
    },
    "wordpress": {
        "what": "WordPress as Debian ships it (/usr/share/wordpress)",
        "setup": "true",
        "stock": ["php", "-l", "{file}"],
        "control_file": "/usr/share/wordpress/wp-settings.php",
        "ours": {"module": "php_refs", "paths": ["/usr/share/wordpress"]},
    },
    "dokuwiki": {
        "what": "DokuWiki as Debian ships it (/usr/share/dokuwiki)",
        "setup": "true",
        "stock": ["php", "-l", "{file}"],
        "control_file": "/usr/share/dokuwiki/doku.php",
        "ours": {"module": "php_refs", "paths": ["/usr/share/dokuwiki"],
                 "constants": {"DOKU_INC": "/usr/share/dokuwiki/"}},
    },
    "php-fpm": {
        "what": "PHP-FPM 8.2's www pool as shipped",
        "setup": "true",
        "stock": ["php-fpm8.2", "-t"],
        "ours": {"module": "php_refs", "paths": [], "ini_files": ["/etc/php/8.2/fpm/pool.d"]},
    },
}

INCIDENT_LOCATION = """location = /healthz {
        include                  /etc/nginx/fastcgi_params;
        fastcgi_param            SCRIPT_FILENAME $document_root/healthz.php;
        fastcgi_pass             unix:/run/php/php8.2-fpm.sock;
    }

    location = /robots.txt {"""

PHP_HANDLER = ("<VirtualHost *:80>\n"
               "\t<FilesMatch \\.php$>\n"
               "\t\tSetHandler \"proxy:unix:/run/php/php8.1-fpm.sock|fcgi://localhost\"\n"
               "\t</FilesMatch>")


def _typo(group, name, path, sound, typo):
    return {"group": group, "name": name, "file": path, "sound": sound, "typo": typo}


CASES = [
    {"group": "nginx", "name": "as shipped (control)", "file": None},
    _typo("nginx", "the incident: SCRIPT_FILENAME names a missing PHP file", WORDPRESS_SITE,
          "location = /robots.txt {", INCIDENT_LOCATION),
    _typo("nginx", "root: a missing directory", WORDPRESS_SITE,
          "/usr/share/wordpress;", "/usr/share/wordpres;"),
    _typo("nginx", "index: a missing file", WORDPRESS_SITE,
          "index                        index.php;", "index index.phpp;"),
    _typo("nginx", "try_files: a missing fallback", WORDPRESS_SITE, "/index.php?$args;", "/index.phpp?$args;"),
    _typo("nginx", "alias: a missing directory", WORDPRESS_SITE,
          "alias /var/lib/wordpress/", "alias /var/lib/wordpres/"),
    _typo("nginx", "fastcgi_pass: a PHP-FPM socket that does not exist", WORDPRESS_SITE,
          "unix:/run/php/php8.2-fpm.sock", "unix:/run/php/php8.1-fpm.sock"),
    _typo("nginx", "include: a missing file", WORDPRESS_SITE,
          "include                  /etc/nginx/fastcgi_params;", "include /etc/nginx/fastcgi_param;"),
    {"group": "apache", "name": "as shipped (control)", "file": None},
    _typo("apache", "DocumentRoot: a missing directory", DEFAULT_VHOST, "/var/www/html", "/var/www/htlm"),
    _typo("apache", "Alias: a missing directory", DOKUWIKI_CONF,
          "Alias      /dokuwiki                    /usr/share/dokuwiki/",
          "Alias      /dokuwiki                    /usr/share/dokuwik/"),
    _typo("apache", "AliasMatch: a missing directory", DOKUWIKI_CONF,
          "[^/]+$      /usr/share/dokuwiki/", "[^/]+$      /usr/share/dokuwik/"),
    _typo("apache", "SetHandler: a PHP-FPM socket that does not exist", DEFAULT_VHOST,
          "<VirtualHost *:80>", PHP_HANDLER),
    _typo("apache", "Include: a missing file", DOKUWIKI_CONF,
          "<Directory /usr/share/dokuwiki/bin>", "Include /etc/apache2/dokuwiki-extra.conf\n"
                                                 "<Directory /usr/share/dokuwiki/bin>"),
    {"group": "wordpress", "name": "as shipped (control)", "file": None},
    _typo("wordpress", "require_once ABSPATH . WPINC . '/class-wp-locale.phpp'", "/usr/share/wordpress/wp-settings.php",
          "require_once ABSPATH . WPINC . '/class-wp-locale.php';",
          "require_once ABSPATH . WPINC . '/class-wp-locale.phpp';"),
    _typo("wordpress", "require_once ABSPATH . WPINC . '/load.phpp'", "/usr/share/wordpress/wp-load.php",
          "require_once ABSPATH . WPINC . '/load.php';", "require_once ABSPATH . WPINC . '/load.phpp';"),
    _typo("wordpress", "require_once dirname( __DIR__ ) . '/wp-load.phpp'", "/usr/share/wordpress/wp-admin/admin.php",
          "require_once dirname( __DIR__ ) . '/wp-load.php';", "require_once dirname( __DIR__ ) . '/wp-load.phpp';"),
    _typo("wordpress", "require_once ABSPATH . 'wp-admin/includes/admin.phpp'",
          "/usr/share/wordpress/wp-admin/admin.php",
          "require_once ABSPATH . 'wp-admin/includes/admin.php';",
          "require_once ABSPATH . 'wp-admin/includes/admin.phpp';"),
    _typo("wordpress", "require_once __DIR__ . '/wp-load.phpp'", "/usr/share/wordpress/wp-blog-header.php",
          "require_once __DIR__ . '/wp-load.php';", "require_once __DIR__ . '/wp-load.phpp';"),
    _typo("wordpress", "a syntax error (what php -l is for)", "/usr/share/wordpress/wp-blog-header.php",
          "require_once __DIR__ . '/wp-load.php';", "require_once __DIR__ . '/wp-load.php'"),
    {"group": "dokuwiki", "name": "as shipped (control)", "file": None},
    _typo("dokuwiki", "require_once(DOKU_INC.'inc/init.phpp')", "/usr/share/dokuwiki/doku.php",
          "require_once(DOKU_INC.'inc/init.php');", "require_once(DOKU_INC.'inc/init.phpp');"),
    _typo("dokuwiki", "require_once(DOKU_INC . 'inc/init.phpp')", "/usr/share/dokuwiki/feed.php",
          "require_once(DOKU_INC . 'inc/init.php');", "require_once(DOKU_INC . 'inc/init.phpp');"),
    _typo("dokuwiki", "require_once(DOKU_INC.'vendor/autoload.phpp')", "/usr/share/dokuwiki/inc/init.php",
          "require_once(DOKU_INC.'vendor/autoload.php');", "require_once(DOKU_INC.'vendor/autoload.phpp');"),
    {"group": "php-fpm", "name": "as shipped (control)", "file": None},
    _typo("php-fpm", "php_admin_value[auto_prepend_file]: a missing file", FPM_POOL,
          "[www]\n", "[www]\nphp_admin_value[auto_prepend_file] = /usr/share/wordpress/wp-prepend.phpp\n"),
]
