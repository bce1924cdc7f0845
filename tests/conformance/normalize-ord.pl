#!/usr/bin/perl
# SPDX-License-Identifier: MIT
#
# tests/conformance/normalize-ord.pl: one mford, mfmemcases or mffsdax
# run (its transcript, its status and the kernel's or memfaild's log
# lines) in the form kept in tests/golden/PROFILE/NAME.txt.
#
#   normalize-ord.pl oracle RAW OUTDIR
#       split the oracle's extra-programs output into OUTDIR/NAME.txt, one
#       per "mford run NAME", "mfmemcases run NAME" or "mffsdax run NAME"
#       invocation
#   normalize-ord.pl memfail TRANSCRIPT LOGFILE RC
#       one run under `memfail run --log-file LOGFILE`; prints it
#
# mford has already made its answers comparable (see mford.c); here the
# "pfnmap Pn 0x.." and "role NAME pid=N" lines it ends with name the pfns
# and processes of the log lines, and go.  Only memory-failure log lines
# are kept, without timestamps, user addresses as ADDR, prefixed "log: ".
use strict;
use warnings;
no warnings "portable";

sub keep_log {
	my ($l) = @_;
	return $l =~ /^(Injecting memory failure|Memory failure: |MCE: Killing|Soft offlin|soft_offline_page: |Unpoison: |Kernel panic)/;
}

sub normalize {
	my ($tr, $log, $status) = @_;
	my (%pfn, %role, @out);

	for my $l (@$tr) {
		if ($l =~ /^pfnmap (P\d+) (0x[0-9a-f]+)$/) {
			$pfn{hex($2)} = $1;
			next;
		}
		if ($l =~ /^role (\S+) pid=(\d+)$/) {
			$role{$2} = $1;
			next;
		}
		push @out, $l;
	}
	push @out, "status $status";
	my $p = sub { my ($v) = @_; return $pfn{hex($v)} // "PFN"; };
	for my $l (@$log) {
		next unless keep_log($l);
		$l =~ s/(pfn )(0x[0-9a-f]+)/$1 . $p->($2)/ge;
		$l =~ s/^(Memory failure: |Unpoison: |Soft offline: )(0x[0-9a-f]+):/$1 . $p->($2) . ":"/e;
		$l =~ s/(Memory failure on page )([0-9a-f]+)/$1 . $p->("0x$2")/e;
		$l =~ s/(virtual address )0x[0-9a-f]+/${1}ADDR/g;
		$l =~ s/(fault at )[0-9a-f]+/${1}ADDR/g;
		# any other pfn this run showed (the old "Unpoison: ... page 0x..")
		$l =~ s/\b(0x[0-9a-f]+)\b/$pfn{hex($1)} \/\/ $1/ge;
		$l =~ s/(\S+):(\d+)( due to| because|$)/"$1:" . ($role{$2} \/\/ "?") . $3/ge;
		push @out, "log: $l";
	}
	return join("", map { "$_\n" } @out);
}

sub slurp {
	my ($f) = @_;
	open(my $fh, '<', $f) or die "$f: $!\n";
	my @l = <$fh>;
	chomp @l;
	return @l;
}

my $mode = shift // '';
if ($mode eq 'memfail' && @ARGV == 3) {
	my ($trf, $logf, $rc) = @ARGV;
	my @tr = slurp($trf);
	my @log = -e $logf ? slurp($logf) : ();
	s/^\[\s*\d+\.\d+\] // for @log;
	print normalize(\@tr, \@log, "exited $rc");
} elsif ($mode eq 'oracle' && @ARGV == 2) {
	my ($raw, $outdir) = @ARGV;
	my ($name, $status, @tr, @log);
	my $n = 0;
	my $write = sub {
		open(my $fh, '>', "$outdir/$name.txt") or die "$outdir/$name.txt: $!\n";
		print $fh normalize(\@tr, \@log, $status);
		close($fh);
		$n++;
		undef $name;
	};
	for my $l (slurp($raw)) {
		if ($l =~ /^--- BEGIN \d+: .*\b(?:mford|mfmemcases|mffsdax) run (\S+)/) {
			($name, $status) = ($1, "unknown");
			@tr = ();
			@log = ();
		} elsif (!defined $name) {
			next;
		} elsif ($l =~ /^--- status \d+: (.*)$/) {
			$status = $1;
		} elsif ($l =~ /^--- kmsg: (.*)$/) {
			push @log, $1;
		} elsif ($l =~ /^--- END /) {
			$write->();
		} elsif ($l =~ /^\[\s*\d+\.\d+\] (.*)$/) {
			# the console's own kernel lines: only a panic's get there
			# (the guest runs dmesg -n 1), and nothing after it
			my $k = $1;
			if ($k =~ /^Kernel panic/) {
				$k =~ s/^(Kernel panic - not syncing: .*?) *$/$1/;
				push @log, $k;
				$status = "kernel panic";
			}
		} elsif ($l !~ /^--- /) {
			push @tr, $l;
		}
	}
	# a panic ends the guest's output without an END
	$write->() if defined $name && $status eq "kernel panic";
	print STDERR "normalize-ord.pl: wrote $n scenario(s) to $outdir\n";
	exit($n ? 0 : 1);
} else {
	print STDERR "usage: normalize-ord.pl oracle RAW OUTDIR\n" .
		     "       normalize-ord.pl memfail TRANSCRIPT LOGFILE RC\n";
	exit(2);
}
